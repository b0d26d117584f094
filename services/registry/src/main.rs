//! `registry`: the visit registry service (走访登记). See `--help`.
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    zoufang_service::main::<zoufang_registry::app::Application>().await
}
