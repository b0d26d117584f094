//! `supervision`: the supervision callbacks service (督查回访). See `--help`.
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    zoufang_service::main::<zoufang_supervision::app::Application>().await
}
