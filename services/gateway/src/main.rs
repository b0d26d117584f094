//! `gateway`: the HTTP+JSON gateway. See `--help`.
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    zoufang_service::main::<zoufang_gateway::app::Application>().await
}
