//! A gateway alone in its own process, for measuring its memory apart from
//! the test that drives it (`security::accounts::
//! unknown_user_sign_ins_keep_the_gateway_small`): `gateway-alone <database>`
//! prints `GATEWAY_PORT <port>` and serves until its stdin closes. No
//! upstream is called by sign-in; the service ports point at port 9.
use zoufang_e2e::gateway::gateway_config;
use zoufang_gateway::app::Application;
use zoufang_service::Service as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let database = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: gateway-alone <database>"))?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut config = gateway_config(&database, 9, 9, 9, 9, 9);
    config.sign_in_address_limit = 100_000;
    let app = Application::build(config).await?;
    println!("GATEWAY_PORT {}", app.http_port());
    let stop = app.shutdown_token();
    tokio::task::spawn_blocking(move || {
        let mut sink = String::new();
        while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {}
        stop.cancel();
    });
    app.run_until_stopped().await
}
