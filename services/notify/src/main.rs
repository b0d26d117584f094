//! `notify`: the notification service (通知). See `--help`.
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    zoufang_service::main::<zoufang_notify::app::Application>().await
}
