//! `zfctl`: the Zoufang command for development and tests.
//!
//! `zfctl token --sub U --roles cadre,supervisor --scope 370102` prints a
//! signed bearer token for calling the services by hand or from scripts.
//! `zfctl parking list|replay --service issues` shows the messages a
//! service's consumer parked and moves them back into its queue.
use anyhow::{Context as _, ensure};
use clap::{Args, Parser, Subcommand};
use zoufang_bus::parking;
use zoufang_core::auth::{DEV_JWT_PRIVATE_KEY_PEM, DEV_JWT_PUBLIC_KEY_PEM, JwtKeys, roles};

/// Zoufang development and test tool.
#[derive(Debug, Parser)]
#[command(name = "zfctl", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print a signed bearer token (send as `authorization: Bearer <token>`).
    Token(TokenArgs),
    /// Inspect or replay a service's parking queue.
    #[command(subcommand)]
    Parking(ParkingCommand),
}

#[derive(Debug, Subcommand)]
enum ParkingCommand {
    /// List parked messages (they stay parked).
    List(ParkingArgs),
    /// Move parked messages back into the service's main queue.
    Replay(ParkingArgs),
}

#[derive(Debug, Args)]
struct ParkingArgs {
    /// The consuming service whose parking queue to use (issues, supervision …).
    #[arg(long)]
    service: String,
    /// At most this many messages.
    #[arg(long, default_value_t = 100)]
    limit: usize,
    /// RabbitMQ URL.
    #[arg(long, env = "AMQP_URL", default_value = zoufang_core::config::DEFAULT_AMQP_URL)]
    amqp_url: String,
}

#[derive(Debug, Args)]
struct TokenArgs {
    /// User id (the `sub` claim).
    #[arg(long)]
    sub: String,
    /// Comma-separated roles: cadre, township_admin, supervisor, department,
    /// county_admin, petition_bureau, service.
    #[arg(long, value_delimiter = ',', required = true)]
    roles: Vec<String>,
    /// Region-code prefix the token may act in (up to 12 digits); empty means everything.
    #[arg(long, default_value = "")]
    scope: String,
    /// Hours until the token expires.
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(i64).range(1..=24 * 366))]
    ttl_hours: i64,
    /// The ES256 private key (PKCS#8 PEM) of the sign-in authority.
    #[arg(
        long,
        env = "ZF_JWT_PRIVATE_KEY",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    jwt_private_key: Option<String>,
    /// A file holding `ZF_JWT_PRIVATE_KEY`.
    #[arg(long, env = "ZF_JWT_PRIVATE_KEY_FILE")]
    jwt_private_key_file: Option<std::path::PathBuf>,
    /// The matching public key (PEM), checked against the private key.
    #[arg(
        long,
        env = "ZF_JWT_PUBLIC_KEY",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    jwt_public_key: Option<String>,
    /// A file holding `ZF_JWT_PUBLIC_KEY`.
    #[arg(long, env = "ZF_JWT_PUBLIC_KEY_FILE")]
    jwt_public_key_file: Option<std::path::PathBuf>,
    /// Sign with the PUBLISHED development key pair (only services started
    /// with ZF_DEV_MODE=1 and no keys accept such tokens).
    #[arg(long, env = "ZF_DEV_MODE", action = clap::ArgAction::SetTrue, value_parser = clap::builder::BoolishValueParser::new())]
    dev_mode: bool,
}

fn main() {
    let result = match Cli::parse().command {
        Command::Token(args) => token(&args),
        Command::Parking(cmd) => parking(cmd),
    };
    // Print the cause chain on one line rather than anyhow's Debug report
    // (which adds a backtrace whenever RUST_BACKTRACE is set).
    if let Err(e) = result {
        eprintln!("zfctl: {e:#}");
        std::process::exit(1);
    }
}

fn token(args: &TokenArgs) -> anyhow::Result<()> {
    let roles: Vec<&str> = args
        .roles
        .iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .collect();
    ensure!(!roles.is_empty(), "--roles needs at least one role");
    // A typo would otherwise surface later as a puzzling PermissionDenied.
    if let Some(bad) = roles.iter().find(|r| !roles::ALL.contains(r)) {
        anyhow::bail!(
            "unknown role {bad:?}; known roles: {}",
            roles::ALL.join(", ")
        );
    }
    let keys = signing_keys(args)?;
    let token = keys
        .mint_for(
            &args.sub,
            &roles,
            &args.scope,
            chrono::Duration::hours(args.ttl_hours),
        )
        .context("cannot mint the token")?;
    println!("{token}");
    Ok(())
}

/// The private and public key from the arguments, or the development pair
/// under `--dev-mode` when neither is given.
fn signing_keys(args: &TokenArgs) -> anyhow::Result<JwtKeys> {
    use zoufang_core::config::secret;
    let private = secret(
        "ZF_JWT_PRIVATE_KEY",
        args.jwt_private_key.as_deref(),
        args.jwt_private_key_file.as_ref(),
    )
    .map_err(anyhow::Error::msg)?;
    let public = secret(
        "ZF_JWT_PUBLIC_KEY",
        args.jwt_public_key.as_deref(),
        args.jwt_public_key_file.as_ref(),
    )
    .map_err(anyhow::Error::msg)?;
    let (private, public) = match (private, public) {
        (Some(private), Some(public)) => (private, public),
        (None, None) if args.dev_mode => {
            eprintln!(
                "WARNING: signing with the PUBLISHED development key (ZF_DEV_MODE=1). \
                 Only services running in development mode accept this token; \
                 never use it in production."
            );
            (
                DEV_JWT_PRIVATE_KEY_PEM.into(),
                DEV_JWT_PUBLIC_KEY_PEM.into(),
            )
        }
        (None, _) => anyhow::bail!(
            "ZF_JWT_PRIVATE_KEY is not set (minting needs the authority's private key; \
             --dev-mode signs with the published development key)"
        ),
        (Some(_), None) => anyhow::bail!("ZF_JWT_PUBLIC_KEY is not set"),
    };
    JwtKeys::from_pem_es256(Some(private.as_bytes()), public.as_bytes())
}

fn parking(cmd: ParkingCommand) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let (args, replay) = match &cmd {
            ParkingCommand::List(a) => (a, false),
            ParkingCommand::Replay(a) => (a, true),
        };
        let conn = zoufang_bus::connect(&args.amqp_url, "zfctl").await?;
        let ch = zoufang_bus::confirm_channel(&conn).await?;
        if replay {
            let moved = parking::replay(&ch, &args.service, args.limit).await?;
            println!("replayed {moved} message(s) into {}.events", args.service);
        } else {
            let parked = parking::list(&ch, &args.service, args.limit).await?;
            println!(
                "{} parked message(s) in {}.parking",
                parked.len(),
                args.service
            );
            for m in parked {
                println!(
                    "{}\t{}\t{} bytes\t{}",
                    m.message_id.as_deref().unwrap_or("-"),
                    m.routing_key,
                    m.payload_len,
                    m.error.as_deref().unwrap_or("-")
                );
            }
        }
        let _ = conn.close(200, "done".into()).await;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("zfctl").chain(args.iter().copied()))
    }

    fn token_args(args: &[&str]) -> TokenArgs {
        match parse(args).unwrap().command {
            Command::Token(a) => a,
            // Reachable once the lead adds more subcommands.
            #[allow(unreachable_patterns)]
            other => panic!("expected the token subcommand, got {other:?}"),
        }
    }

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn token_args_parse() {
        let a = token_args(&[
            "token",
            "--sub",
            "u1",
            "--roles",
            "cadre,supervisor",
            "--scope",
            "370102",
            "--dev-mode",
        ]);
        assert_eq!(a.roles, ["cadre", "supervisor"]);
        assert_eq!(a.ttl_hours, 12);
        assert!(token(&a).is_ok());
    }

    #[test]
    fn bad_input_is_refused() {
        assert!(
            parse(&["token", "--sub", "u1"]).is_err(),
            "roles are required"
        );
        assert!(
            parse(&[
                "token",
                "--sub",
                "u",
                "--roles",
                "cadre",
                "--ttl-hours",
                "0"
            ])
            .is_err()
        );
        let a = token_args(&["token", "--sub", "u", "--roles", "mayor"]);
        assert!(token(&a).unwrap_err().to_string().contains("unknown role"));
        let a = token_args(&["token", "--sub", "u", "--roles", "cadre", "--scope", "37x"]);
        assert!(token(&a).is_err());
    }
}
