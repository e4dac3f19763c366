//! Bearer tokens signed with the platform secret (HS256 JWT), and the actor they carry.

use chrono::{DateTime, Duration, Utc};
use hotline_schemas::value::ids::TokenId;
use hotline_schemas::{Actor, AppealId, Role};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// What a token says about its holder.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Claims {
    /// The holder's name, recorded as the actor of their events.
    sub: String,
    role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unit: Option<hotline_schemas::UnitCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    appeal: Option<AppealId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user: Option<hotline_schemas::value::ids::UserId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    in_charge_of: Vec<hotline_schemas::UnitCode>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    mailbox_reader: bool,
    /// The token's id, by which it is revoked; absent in tokens issued before ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jti: Option<TokenId>,
    /// Good for rating the appeal only (the token of a rating link).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    rating_only: bool,
    iat: i64,
    exp: i64,
}

impl Claims {
    /// The claims of a new token for `actor`, valid from `now` until `exp`.
    fn of(actor: &Actor, now: DateTime<Utc>, exp: DateTime<Utc>) -> Claims {
        Claims {
            sub: actor.name.clone(),
            role: actor.role,
            unit: actor.unit.clone(),
            appeal: actor.appeal,
            user: actor.user,
            in_charge_of: actor.in_charge_of.clone(),
            mailbox_reader: actor.mailbox_reader,
            jti: Some(TokenId::new()),
            rating_only: false,
            iat: now.timestamp(),
            exp: exp.timestamp(),
        }
    }
}

/// A token that verified: the actor it carries, its id and when it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub actor: Actor,
    /// `None` for a token issued before tokens had ids.
    pub id: Option<TokenId>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Good for `POST /appeals/{id}/rate` only: a rating link's token.
    pub rating_only: bool,
}

/// Issues and verifies tokens with one secret.
#[derive(Clone)]
pub struct TokenSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

/// How long the first admin token (`data/admin-token`) is valid, in days; other staff tokens
/// live as long as the configuration says (`staff_token_hours`).
pub const ADMIN_TOKEN_DAYS: i64 = 365;
/// How long an appellant can follow and rate their appeal with its token.
pub const APPELLANT_TOKEN_DAYS: i64 = 365;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token could not be signed: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

impl TokenSigner {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    /// A token for `actor` with a new id, valid for `lifetime` from `now`.
    pub fn issue(
        &self,
        actor: &Actor,
        now: DateTime<Utc>,
        lifetime: Duration,
    ) -> Result<String, TokenError> {
        self.sign(&Claims::of(actor, now, now + lifetime))
    }

    /// The token an appellant follows and rates their appeal with.
    pub fn issue_appellant(
        &self,
        appeal: AppealId,
        now: DateTime<Utc>,
    ) -> Result<String, TokenError> {
        let actor = Actor::public().following(appeal);
        self.issue(&actor, now, Duration::days(APPELLANT_TOKEN_DAYS))
    }

    /// The token of a rating link: good for rating `appeal` only, until `until` (the end of
    /// the rating window).
    pub fn issue_rating(
        &self,
        appeal: AppealId,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<String, TokenError> {
        let actor = Actor::public().following(appeal);
        self.sign(&Claims {
            rating_only: true,
            ..Claims::of(&actor, now, until.max(now))
        })
    }

    fn sign(&self, claims: &Claims) -> Result<String, TokenError> {
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &self.encoding,
        )?)
    }

    /// The actor of a valid token; `None` for a forged, malformed or expired one, or one whose
    /// role lacks what it needs (a unit for `unit`, an appeal for `appellant`). Whether it was
    /// revoked is the store's to say ([`Verified::id`]).
    pub fn verify(&self, token: &str) -> Option<Actor> {
        self.verified(token).map(|v| v.actor)
    }

    /// A valid token's actor, id and expiry (see [`TokenSigner::verify`]).
    pub fn verified(&self, token: &str) -> Option<Verified> {
        self.verified_at(token, Utc::now())
    }

    /// [`TokenSigner::verified`] at `now` (the platform's clock).
    pub fn verified_at(&self, token: &str, now: DateTime<Utc>) -> Option<Verified> {
        self.decode(token)
            .filter(|v| v.expires_at.is_some_and(|exp| exp > now))
    }

    /// A token signed with this secret, expired or not: what revoking it needs to know.
    pub fn inspect(&self, token: &str) -> Option<Verified> {
        self.decode(token)
    }

    /// A token signed with this secret; its expiry is checked by the caller, against the
    /// platform's clock.
    fn decode(&self, token: &str) -> Option<Verified> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.validate_exp = false;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .ok()?
            .claims;
        match claims.role {
            Role::Unit if claims.unit.is_none() => return None,
            Role::Appellant if claims.appeal.is_none() => return None,
            _ => {}
        }
        Some(Verified {
            id: claims.jti,
            expires_at: DateTime::from_timestamp(claims.exp, 0),
            rating_only: claims.rating_only,
            actor: Actor {
                name: claims.sub,
                role: claims.role,
                unit: claims.unit,
                appeal: claims.appeal,
                user: claims.user,
                in_charge_of: claims.in_charge_of,
                mailbox_reader: claims.mailbox_reader,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, unit: Option<&str>) -> Actor {
        Actor {
            name: "王五".into(),
            role,
            unit: unit.map(Into::into),
            appeal: None,
            user: None,
            in_charge_of: Vec::new(),
            mailbox_reader: false,
        }
    }

    #[test]
    fn round_trips_and_rejects_forgeries() {
        let signer = TokenSigner::new(b"secret-one");
        let other = TokenSigner::new(b"secret-two");
        let a = actor(Role::Unit, Some("FGJ"));
        let token = signer.issue(&a, Utc::now(), Duration::hours(1)).unwrap();
        assert_eq!(signer.verify(&token), Some(a.clone()));
        let again = signer.issue(&a, Utc::now(), Duration::hours(1)).unwrap();
        let (one, two) = (
            signer.verified(&token).unwrap(),
            signer.verified(&again).unwrap(),
        );
        assert!(one.id.is_some());
        assert_ne!(one.id, two.id, "every token has an id of its own");
        assert_eq!(other.verify(&token), None);
        assert_eq!(signer.verify("not-a-token"), None);
    }

    #[test]
    fn rejects_expired_and_incomplete_tokens() {
        let signer = TokenSigner::new(b"s");
        let old = Utc::now() - Duration::days(10);
        let token = signer
            .issue(&actor(Role::Agent, None), old, Duration::hours(12))
            .unwrap();
        assert_eq!(signer.verify(&token), None);
        assert!(signer.inspect(&token).is_some_and(|v| v.id.is_some()));
        let no_unit = signer
            .issue(&actor(Role::Unit, None), Utc::now(), Duration::hours(1))
            .unwrap();
        assert_eq!(signer.verify(&no_unit), None);
    }
}
