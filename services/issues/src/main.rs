//! `issues`: the issue ledger service (民情台账). See `--help`.
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    zoufang_service::main::<zoufang_issues::app::Application>().await
}
