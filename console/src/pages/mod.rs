//! The pages: each module holds the handlers and templates of one part of the console.

pub mod admin;
pub mod dashboard;
pub mod desk;
pub mod follow;
pub mod history;
pub mod inbox;
pub mod oversight;
pub mod public;
pub mod queue;
pub mod reference;
pub mod sign_in;
pub mod start;
pub mod submit;

use askama::Template;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use hotline_schemas::{Appellant, Role};

use crate::error::{Failure, render_error};
use crate::i18n::Tr;
use crate::session::Visitor;

/// The frame of every page: its language, the signed-in visitor and the sections they may open.
pub struct Chrome {
    pub tr: Tr,
    pub who: Option<Who>,
    /// The token the page's forms carry (the session's, or the public pages' cookie).
    pub csrf: String,
}

/// The signed-in visitor, as the header shows them.
pub struct Who {
    pub name: String,
    pub role: String,
    pub nav: Vec<NavLink>,
}

/// A section of the console in the header.
pub struct NavLink {
    pub href: &'static str,
    pub label: String,
    pub current: bool,
}

impl Chrome {
    /// A page for the public (or before sign-in).
    pub fn public(tr: Tr) -> Chrome {
        Chrome {
            tr,
            who: None,
            csrf: String::new(),
        }
    }

    /// A public page whose forms carry `csrf`.
    pub fn public_form(tr: Tr, csrf: String) -> Chrome {
        Chrome {
            tr,
            who: None,
            csrf,
        }
    }

    /// A page of the console for `visitor`, in the section at `current`.
    pub fn staff(tr: Tr, visitor: &Visitor, current: &str) -> Chrome {
        let role = visitor.user.role;
        let nav = sections(&visitor.user)
            .into_iter()
            .map(|(href, key)| NavLink {
                href,
                label: tr.t(key),
                current: href == current,
            })
            .collect();
        Chrome {
            who: Some(Who {
                name: visitor.user.name.clone(),
                role: tr.code("role", role.as_str()),
                nav,
            }),
            csrf: visitor.session.csrf.clone(),
            tr,
        }
    }
}

/// The sections each role works in: path and the key of its name. The access table of the
/// console: each page's extractor names the permission that lets these roles in.
pub fn sections(user: &hotline_schemas::User) -> Vec<(&'static str, &'static str)> {
    let mut list = vec![("/console", "nav-start")];
    list.extend(match user.role {
        Role::Agent => vec![("/console/desk", "nav-desk")],
        Role::Dispatcher => vec![
            ("/console/queue", "nav-queue"),
            ("/console/dashboard", "nav-dashboard"),
        ],
        Role::Unit => vec![("/console/inbox", "nav-inbox")],
        Role::Supervisor => vec![
            ("/console/oversight", "nav-oversight"),
            ("/console/queue", "nav-queue"),
            ("/console/dashboard", "nav-dashboard"),
        ],
        Role::Leader => vec![
            ("/console/oversight", "nav-oversight"),
            ("/console/dashboard", "nav-dashboard"),
        ],
        Role::Admin => vec![
            ("/console/desk", "nav-desk"),
            ("/console/queue", "nav-queue"),
            ("/console/oversight", "nav-oversight"),
            ("/console/dashboard", "nav-dashboard"),
            ("/console/admin", "nav-admin"),
        ],
        Role::Appellant => Vec::new(),
    });
    // The confidential appeals' queue: mailbox readers and admins.
    if user.mailbox_reader || user.role == Role::Admin {
        list.push(("/console/queue/mailbox", "nav-mailbox"));
    }
    list
}

/// The appellant as a case page shows them (as the visitor may see them): name, phone and an
/// enterprise's USCC.
pub fn appellant_line(appellant: &Appellant) -> String {
    let uscc = match appellant {
        Appellant::Enterprise { uscc, .. } => Some(uscc.as_str()),
        Appellant::Person { .. } => None,
    };
    [Some(appellant.name()), appellant.phone(), uscc]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" · ")
}

/// A matter in a select, with its unit (the dispatch form's script shows the chosen unit's).
pub struct MatterChoice {
    pub code: String,
    pub name: String,
    pub unit: String,
    pub selected: bool,
}

/// The matters of one category, in the visitor's language.
pub struct MatterGroup {
    pub name: String,
    pub matters: Vec<MatterChoice>,
}

/// The published taxonomy's matters by category for a select, those `selected` says chosen.
pub fn matter_groups(
    console: &crate::Console,
    tr: &Tr,
    selected: impl Fn(&str) -> bool,
) -> Vec<MatterGroup> {
    let english = tr.lang().starts_with("en");
    let taxonomy = console.app.taxonomy();
    taxonomy
        .categories
        .iter()
        .map(|c| MatterGroup {
            name: if english { &c.name_en } else { &c.name }.clone(),
            matters: taxonomy
                .matters_of(&c.code)
                .map(|m| MatterChoice {
                    code: m.code.to_string(),
                    name: if english { &m.name_en } else { &m.name }.clone(),
                    unit: m.unit.to_string(),
                    selected: selected(m.code.as_str()),
                })
                .collect(),
        })
        .filter(|g| !g.matters.is_empty())
        .collect()
}

/// A rendered page, never cached (it may hold personal data).
pub fn page(template: &impl Template) -> Result<Response, Failure> {
    let html = template.render().map_err(render_error)?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response())
}
