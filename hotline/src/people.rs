//! Users and their tokens, as the `hotline user …` and `hotline token …` commands manage
//! them (the admin API does the same through the gateway).

use std::collections::BTreeMap;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use hotline_gateway::TokenSigner;
use hotline_locales::Localizer;
use hotline_schemas::value::ids::TokenId;
use hotline_schemas::value::unit::demo_units;
use hotline_schemas::{Actor, DomainError, NewUser, UnitCode, User, UserId};
use hotline_store::Store;

use crate::{Config, secret, taxonomy};

/// A domain error as a command-line error: the code, the field and the message in the
/// language of `LANG` (zh-CN when it names none shipped).
fn domain_error(e: DomainError) -> anyhow::Error {
    let text = Localizer::new().map(|localizer| {
        let lang = std::env::var("LANG").unwrap_or_default();
        let lang = lang.split('.').next().unwrap_or_default().replace('_', "-");
        let lang = localizer.negotiate(Some(&lang)).to_owned();
        let mut args: BTreeMap<&str, String> = e.args.clone();
        args.entry("detail").or_default();
        if let Some(field) = &e.field {
            args.entry("field").or_insert_with(|| field.clone());
        }
        localizer.message(&lang, e.code.as_str(), &args)
    });
    match (text, &e.field) {
        (Ok(text), Some(field)) => anyhow::anyhow!("{} ({field}): {text}", e.code),
        (Ok(text), None) => anyhow::anyhow!("{}: {text}", e.code),
        (Err(_), _) => anyhow::anyhow!("{e}"),
    }
}

/// Whether `code` is a unit of the platform: in the store, the taxonomy or (with demo data)
/// the demo units.
async fn known_units(config: &Config, store: &dyn Store) -> anyhow::Result<Vec<UnitCode>> {
    let mut units: Vec<UnitCode> = store.units().await?.into_iter().map(|u| u.code).collect();
    units.extend(taxonomy(config)?.units.iter().map(|u| u.to_unit().code));
    if config.demo_data {
        units.extend(demo_units().into_iter().map(|u| u.code));
    }
    Ok(units)
}

/// Adds a user after the domain's checks, its units being the platform's.
pub async fn add_user(config: &Config, store: &dyn Store, new: NewUser) -> anyhow::Result<User> {
    new.validate().map_err(domain_error)?;
    let units = known_units(config, store).await?;
    new.check_units(|code| units.contains(code))
        .map_err(domain_error)?;
    let user = new
        .into_user(UserId::new(), Utc::now())
        .map_err(domain_error)?;
    store.add_user(&user).await?;
    Ok(user)
}

/// Disables (or enables) a user; an error when there is none with `id`.
pub async fn set_user_disabled(
    store: &dyn Store,
    id: UserId,
    disabled: bool,
) -> anyhow::Result<User> {
    store
        .set_user_disabled(id, disabled, Utc::now())
        .await?
        .with_context(|| format!("no user {id}"))
}

/// A token for `actor` issued at `at`, valid for the configured staff token lifetime.
pub fn issue_token_at(config: &Config, actor: &Actor, at: DateTime<Utc>) -> anyhow::Result<String> {
    let signer = TokenSigner::new(&secret(config)?);
    Ok(signer.issue(actor, at, config.staff_token_lifetime())?)
}

/// A token for the user `id`, carrying the user's record; refused for a disabled user.
pub async fn issue_user_token(
    config: &Config,
    store: &dyn Store,
    id: UserId,
) -> anyhow::Result<String> {
    let user = store
        .user(id)
        .await?
        .with_context(|| format!("no user {id}"))?;
    anyhow::ensure!(!user.disabled, "user {id} is disabled");
    issue_token_at(config, &user.actor(), Utc::now())
}

/// Sets the console password of user `id` (argon2id); their sessions end.
pub async fn set_password(store: &dyn Store, id: UserId, password: &str) -> anyhow::Result<()> {
    let hash = hotline_console::password::hash(password)?;
    anyhow::ensure!(
        store.set_password(id, &hash, Utc::now()).await?,
        "no user {id}"
    );
    Ok(())
}

/// Revokes `token` (signed with this platform's secret, expired or not): its id.
pub async fn revoke_token(
    config: &Config,
    store: &dyn Store,
    token: &str,
) -> anyhow::Result<TokenId> {
    let signer = TokenSigner::new(&secret(config)?);
    let verified = signer
        .inspect(token.trim())
        .context("not a token of this platform (malformed, or signed with another secret)")?;
    let id = verified.id.context(
        "this token has no id (issued before tokens had ids): change the secret to end it",
    )?;
    store
        .revoke_token(id, verified.expires_at, Utc::now())
        .await?;
    Ok(id)
}
