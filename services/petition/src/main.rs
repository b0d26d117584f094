//! `petition`: the petition-system bridge (信访对接). See `--help`.
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    zoufang_service::main::<zoufang_petition::app::Application>().await
}
