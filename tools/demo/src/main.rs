//! `zfdemo`: loads a demo county (祁东县, 430426) and a simulated campaign
//! into running Zoufang services over gRPC, and prints its totals — the
//! figures the campaign summary (`GET /v1/reports/summary`) must show.
//!
//! ```sh
//! cargo run --release -p zoufang-demo --bin zfdemo -- --seed 2026 --households 2000
//! ```
//!
//! The same seed and size again changes nothing and prints the same totals.
use std::time::Duration;

use clap::Parser;
use zoufang_core::auth::{DEV_JWT_PRIVATE_KEY_PEM, DEV_JWT_PUBLIC_KEY_PEM};
use zoufang_demo::{self as demo, Config};

/// `value`, or under development mode `dev`; otherwise exit 64 naming `name`.
fn key_or_dev(name: &str, value: Option<String>, dev_mode: bool, dev: &str) -> String {
    match value.filter(|v| !v.trim().is_empty()) {
        Some(v) => v,
        None if dev_mode => dev.to_owned(),
        None => {
            eprintln!(
                "zfdemo: {name} is not set (or set ZF_DEV_MODE=1 for services running with the \
                 published development keys)"
            );
            std::process::exit(64);
        }
    }
}

/// Generates a demo county and campaign against running services.
#[derive(Debug, Parser)]
#[command(name = "zfdemo", version)]
struct Args {
    /// Everything generated (and every id) follows from the seed.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Households to register (at least 20).
    #[arg(long, default_value_t = 2000)]
    households: usize,
    /// Print the totals as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Registry gRPC URL.
    #[arg(long, env = "REGISTRY_URL", default_value = "http://127.0.0.1:50051")]
    registry_url: String,
    /// Ledger (issues) gRPC URL.
    #[arg(long, env = "ISSUES_URL", default_value = "http://127.0.0.1:50052")]
    issues_url: String,
    /// Supervision gRPC URL.
    #[arg(
        long,
        env = "SUPERVISION_URL",
        default_value = "http://127.0.0.1:50053"
    )]
    supervision_url: String,
    /// Notify gRPC URL (not called: notifications follow from the other services' events).
    #[arg(long, env = "NOTIFY_URL", default_value = "http://127.0.0.1:50054")]
    notify_url: String,
    /// Petition bridge gRPC URL.
    #[arg(long, env = "PETITION_URL", default_value = "http://127.0.0.1:50055")]
    petition_url: String,
    /// Gateway URL, to print where the summary is.
    #[arg(long, env = "GATEWAY_URL", default_value = "http://127.0.0.1:8080")]
    gateway_url: String,
    /// The sign-in authority's ES256 private key (PKCS#8 PEM): the demo
    /// mints its own tokens, as an operator with `zfctl token` does.
    #[arg(
        long,
        env = "ZF_JWT_PRIVATE_KEY",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    jwt_private_key: Option<String>,
    /// The matching public key (PEM).
    #[arg(
        long,
        env = "ZF_JWT_PUBLIC_KEY",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    jwt_public_key: Option<String>,
    /// Without keys, use the PUBLISHED development pair (services started
    /// by scripts/run.sh, which sets ZF_DEV_MODE=1).
    #[arg(long, env = "ZF_DEV_MODE", action = clap::ArgAction::SetTrue, value_parser = clap::builder::BoolishValueParser::new())]
    dev_mode: bool,
    /// Seconds to wait for each asynchronous step (ledger items, callbacks).
    #[arg(long, default_value_t = 180)]
    timeout_secs: u64,
    /// No progress lines on stderr.
    #[arg(long)]
    quiet: bool,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let _ = &args.notify_url;
    let config = Config {
        registry_url: args.registry_url,
        issues_url: args.issues_url,
        supervision_url: args.supervision_url,
        petition_url: args.petition_url,
        gateway_url: args.gateway_url,
        jwt_private_key: key_or_dev(
            "ZF_JWT_PRIVATE_KEY",
            args.jwt_private_key,
            args.dev_mode,
            DEV_JWT_PRIVATE_KEY_PEM,
        ),
        jwt_public_key: key_or_dev(
            "ZF_JWT_PUBLIC_KEY",
            args.jwt_public_key,
            args.dev_mode,
            DEV_JWT_PUBLIC_KEY_PEM,
        ),
        seed: args.seed,
        households: args.households,
        timeout: Duration::from_secs(args.timeout_secs),
        verbose: !args.quiet,
    };
    let t0 = std::time::Instant::now();
    let totals = match demo::run(&config).await {
        Ok(t) => t,
        Err(e) => {
            eprintln!("zfdemo: {e:#}");
            std::process::exit(1);
        }
    };
    let diffs = match demo::check_with_services(&config, &totals).await {
        Ok(d) => d,
        Err(e) => vec![format!("could not read the services' figures: {e:#}")],
    };
    if args.json {
        let mut j = totals.to_json(&config.gateway_url);
        j["services_agree"] = diffs.is_empty().into();
        println!("{}", serde_json::to_string_pretty(&j).unwrap_or_default());
    } else {
        println!(
            "{}（seed {}, {} s）",
            totals.campaign_name,
            totals.seed,
            t0.elapsed().as_secs()
        );
        println!(
            "campaign_id {}  region_code {}",
            totals.campaign_id, totals.region_code
        );
        println!();
        print!("{}", totals.table());
        println!();
        if diffs.is_empty() {
            println!("各服务统计与上表一致 The services' figures equal these totals.");
        }
        println!(
            "活动总结 Campaign summary (GET with a signed-in token; add &format=md, html or xlsx):"
        );
        println!("  {}", totals.summary_url(&config.gateway_url));
        println!("全县汇总 County view with township ranks:");
        println!(
            "  {}/v1/reports/county?county={}&campaign_id={}",
            config.gateway_url.trim_end_matches('/'),
            demo::COUNTY,
            totals.campaign_id
        );
    }
    if !diffs.is_empty() {
        eprintln!("zfdemo: the services' figures differ from the totals:");
        for d in &diffs {
            eprintln!("  {d}");
        }
        std::process::exit(2);
    }
}
