//! The gRPC layer of a service, written once: [`rpcs!`](crate::rpcs)
//! implements a tonic service trait whose every method checks the caller's
//! token and hands the claims and the request to one `ops` function.

/// Implements a tonic service trait on a struct with a `state` field.
///
/// Each line `name(Request) -> Response => ops::path;` becomes a method that
/// reads the verified claims and calls `ops::path(&self.state, &claims,
/// request)`. A line ending in `with bearer;` also passes the caller's own
/// bearer token (for operations that call another service on the caller's
/// behalf). Methods the pattern does not fit (streams) go in a trailing
/// `{ … }` block, verbatim.
///
/// ```ignore
/// zoufang_service::rpcs! {
///     impl IssueService for IssueGrpc {
///         create_issue(CreateIssueRequest) -> CreateIssueResponse => ops::create::create;
///     }
/// }
/// ```
#[macro_export]
macro_rules! rpcs {
    (
        impl $service:ident for $grpc:ty {
            $($name:ident($req:ty) -> $resp:ty => $op:path $(, with $bearer:ident)?;)*
        }
        $({ $($verbatim:tt)* })?
    ) => {
        #[tonic::async_trait]
        impl $service for $grpc {
            $(
                async fn $name(
                    &self,
                    request: tonic::Request<$req>,
                ) -> Result<tonic::Response<$resp>, tonic::Status> {
                    let claims = $crate::__private::claims(&request)?;
                    $crate::rpcs!(@call self, request, claims, $op $(, $bearer)?)
                }
            )*
            $($($verbatim)*)?
        }
    };
    (@call $this:ident, $request:ident, $claims:ident, $op:path) => {
        Ok(tonic::Response::new(
            $op(&$this.state, &$claims, $request.into_inner()).await?,
        ))
    };
    (@call $this:ident, $request:ident, $claims:ident, $op:path, bearer) => {{
        let bearer = $crate::__private::bearer_token(&$request)?.to_owned();
        Ok(tonic::Response::new(
            $op(&$this.state, &$claims, &bearer, $request.into_inner()).await?,
        ))
    }};
}
