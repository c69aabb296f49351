//! `fernhand admin`: administrative commands — the deployment CA, tenants,
//! users, enrolment tokens, operator tokens, backup and restore. Secrets it makes (one-time
//! passwords, tokens) go to stdout once and nowhere else.

use crate::cli::{
    AdminArgs, AdminCommand, CaCommand, CertUsage, OperatorTokenCommand, StoreArgs, TenantCommand,
    UserCommand,
};
use anyhow::Context;
use fernhand_pki::{Ca, Usage};
use fernhand_protocol::RelayId;
use fernhand_protocol::broker_link::relay_identity_name;
use fernhand_server::admin as ops;
use fernhand_server::serve::{ServeOptions, open_store};
use fernhand_store::Store;
use std::process::ExitCode;

pub fn run(args: &AdminArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        AdminCommand::Ca { command } => ca(command),
        other => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(store_task(other)),
    }
}

async fn store(args: &StoreArgs) -> anyhow::Result<Store> {
    if args.database.is_none() && !args.data.join("store.db").exists() {
        anyhow::bail!(
            "no database in {} (start `fernhand server --data {}` once, or give --database)",
            args.data.display(),
            args.data.display()
        );
    }
    let mut opts = ServeOptions::embedded(args.data.clone(), ([127, 0, 0, 1], 0).into());
    opts.database = args.database.clone();
    Ok(open_store(&opts).await?)
}

async fn store_task(command: &AdminCommand) -> anyhow::Result<ExitCode> {
    match command {
        AdminCommand::Ca { command } => return ca(command),
        AdminCommand::Tenant {
            command:
                TenantCommand::Create {
                    store: s,
                    slug,
                    name,
                    admin_email,
                },
        } => {
            let password = ops::create_tenant(&store(s).await?, slug, name, admin_email).await?;
            println!("tenant {slug} created; its administrator {admin_email} signs in once with:");
            println!("password: {}", password.as_str());
        }
        AdminCommand::User {
            command:
                UserCommand::Create {
                    store: s,
                    tenant,
                    email,
                    name,
                    role,
                },
        } => {
            let password = ops::create_user(&store(s).await?, tenant, email, name, role).await?;
            println!("user {email} created in {tenant}; one-time password:");
            println!("password: {}", password.as_str());
        }
        AdminCommand::User {
            command:
                UserCommand::ResetPassword {
                    store: s,
                    tenant,
                    email,
                },
        } => {
            let password = ops::reset_password(&store(s).await?, tenant, email).await?;
            println!("{email} in {tenant} signs in once with:");
            println!("password: {}", password.as_str());
        }
        AdminCommand::User {
            command:
                UserCommand::ResetMfa {
                    store: s,
                    tenant,
                    email,
                },
        } => {
            ops::reset_mfa(&store(s).await?, tenant, email).await?;
            println!("MFA of {email} in {tenant} is off and their sessions are ended");
        }
        AdminCommand::EnrolmentToken {
            store: s,
            tenant,
            group,
            ttl_seconds,
        } => {
            let token =
                ops::enrolment_token(&store(s).await?, tenant, group.as_deref(), *ttl_seconds)
                    .await?;
            println!("{}", token.as_str());
        }
        AdminCommand::OperatorToken { command } => operator_token(command).await?,
        AdminCommand::DeskImport {
            store: s,
            tenant,
            from,
            file,
        } => {
            let report = ops::desk_import(&store(s).await?, tenant, from, file).await?;
            for (line, why) in &report.skipped {
                println!("line {line}: skipped: {why}");
            }
            println!(
                "{} ticket(s) imported, {} already in the desk, {} line(s) skipped",
                report.imported.len(),
                report.existing,
                report.skipped.len()
            );
        }
        AdminCommand::MailIntake {
            store: s,
            tenant,
            maildir,
            mbox,
        } => {
            let source = match (maildir, mbox) {
                (Some(dir), _) => ops::MailSource::Maildir(dir),
                (None, Some(file)) => ops::MailSource::Mbox(file),
                (None, None) => anyhow::bail!("give --maildir or --mbox"),
            };
            let report = ops::mail_intake(&store(s).await?, &s.data, tenant, source).await?;
            for (name, outcome) in &report {
                println!("{name}: {outcome}");
            }
            println!("{} message(s) read", report.len());
        }
        AdminCommand::RotateTenantKey { store: s, tenant } => {
            let version = ops::rotate_tenant_key(&store(s).await?, &s.data, tenant).await?;
            println!("tenant {tenant}: data key version {version} seals from now on");
        }
        AdminCommand::Export {
            store: s,
            tenant,
            out,
        } => {
            let summary =
                ops::export_tenant(&store(s).await?, &s.data, tenant, out, |table, rows| {
                    eprintln!("exported {table}: {rows} rows");
                })
                .await?;
            let rows: u64 = summary.rows.values().sum();
            println!(
                "tenant {tenant} exported to {}: {rows} rows, {} files",
                out.display(),
                summary.files
            );
        }
        AdminCommand::Import { store: s, archive } => {
            let (tenant, summary) = ops::import_tenant(&store(s).await?, &s.data, archive).await?;
            let rows: u64 = summary.rows.values().sum();
            println!(
                "tenant {} imported: {rows} rows, {} files; users set new passwords \
                 (`fernhand admin user reset-password`), devices enrol again, webhook secrets are set again",
                tenant.slug, summary.files
            );
        }
        AdminCommand::Backup { data, to } => {
            let s = store(&StoreArgs {
                data: data.clone(),
                database: None,
            })
            .await?;
            s.backup_to(to)
                .await
                .with_context(|| format!("backing up to {}", to.display()))?;
            Store::verify_sqlite_file(to).await?;
            println!("backup written to {} and checked", to.display());
        }
        AdminCommand::Restore { data, from } => {
            ops::restore(data, from).await?;
            println!("{} restored into {}", from.display(), data.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn ca(command: &CaCommand) -> anyhow::Result<ExitCode> {
    match command {
        CaCommand::Init { dir, name } => {
            let ca = Ca::create(name)?;
            ca.save(dir)
                .with_context(|| format!("saving the CA in {}", dir.display()))?;
            println!(
                "CA created in {} (keep ca.key secret and offline if you can)",
                dir.display()
            );
        }
        CaCommand::Issue {
            dir,
            name,
            hosts,
            usage,
            relay,
        } => {
            let ca =
                Ca::load(dir).with_context(|| format!("loading the CA from {}", dir.display()))?;
            let mut hosts = hosts.clone();
            let mut usage = match usage {
                CertUsage::Server => Usage::Server,
                CertUsage::Client => Usage::Client,
                CertUsage::Both => Usage::ServerAndClient,
            };
            if let Some(relay) = relay {
                let id = if relay == "new" {
                    RelayId::random().context("no entropy")?
                } else {
                    relay
                        .parse::<RelayId>()
                        .context("--relay takes 32 hex digits or `new`")?
                };
                hosts.push(relay_identity_name(id));
                usage = Usage::ServerAndClient;
                println!("relay id: {id}");
            }
            anyhow::ensure!(!hosts.is_empty(), "give at least one --host");
            let issued = ca.issue(name, &hosts, usage)?;
            issued.save(dir, name)?;
            println!(
                "issued {}/{name}.pem and {name}.key for {}",
                dir.display(),
                hosts.join(", ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn operator_token(command: &OperatorTokenCommand) -> anyhow::Result<()> {
    match command {
        OperatorTokenCommand::Create { store: s, name } => {
            let token = ops::operator_token(&store(s).await?, name).await?;
            println!("{}", token.as_str());
        }
        OperatorTokenCommand::List { store: s } => {
            for t in ops::operator_tokens(&store(s).await?).await? {
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else {
                    "live"
                };
                println!("{}\t{}\t{state}", t.id, t.name);
            }
        }
        OperatorTokenCommand::Revoke { store: s, id } => {
            ops::revoke_operator_token(&store(s).await?, id).await?;
            println!("operator token {id} revoked");
        }
    }
    Ok(())
}
