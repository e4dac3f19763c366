//! User-facing text of the hotline, from the Fluent files beside this crate: `zh-CN` (default)
//! and `en-US`. Error codes are message ids.

use std::collections::BTreeMap;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use unic_langid::LanguageIdentifier;

/// The languages text exists in; the first is the default.
pub const LANGUAGES: [&str; 2] = ["zh-CN", "en-US"];

/// The files of each language: the API's messages (`main.ftl`) and the web console's, one file
/// a part of it.
pub const FILES: [&str; 5] = [
    "main.ftl",
    "console.ftl",
    "desk.ftl",
    "oversight.ftl",
    "admin.ftl",
];

/// The files of `FILES` in the folder of language `$lang`.
macro_rules! files_of {
    ($lang:literal) => {
        [
            include_str!(concat!("../", $lang, "/main.ftl")),
            include_str!(concat!("../", $lang, "/console.ftl")),
            include_str!(concat!("../", $lang, "/desk.ftl")),
            include_str!(concat!("../", $lang, "/oversight.ftl")),
            include_str!(concat!("../", $lang, "/admin.ftl")),
        ]
    };
}

const SOURCES: [(&str, [&str; FILES.len()]); 2] =
    [("zh-CN", files_of!("zh-CN")), ("en-US", files_of!("en-US"))];

/// Loads the bundles once and answers messages in a negotiated language.
pub struct Localizer {
    bundles: Vec<(
        &'static str,
        LanguageIdentifier,
        FluentBundle<FluentResource>,
    )>,
}

/// A Fluent file failed to parse or a message was defined twice.
#[derive(Debug, thiserror::Error)]
#[error("locale {lang}: {detail}")]
pub struct LocaleError {
    pub lang: String,
    pub detail: String,
}

impl Localizer {
    /// Parses the shipped Fluent files.
    pub fn new() -> Result<Self, LocaleError> {
        let mut bundles = Vec::new();
        for (lang, sources) in SOURCES {
            let err = |detail: String| LocaleError {
                lang: lang.to_owned(),
                detail,
            };
            let id: LanguageIdentifier = lang.parse().map_err(|e| err(format!("{e}")))?;
            let mut bundle = FluentBundle::new_concurrent(vec![id.clone()]);
            bundle.set_use_isolating(false);
            for source in sources {
                let resource = FluentResource::try_new(source.to_owned())
                    .map_err(|(_, errors)| err(format!("{errors:?}")))?;
                bundle
                    .add_resource(resource)
                    .map_err(|errors| err(format!("{errors:?}")))?;
            }
            bundles.push((lang, id, bundle));
        }
        Ok(Self { bundles })
    }

    /// The best shipped language for an `Accept-Language` header (zh-CN when none matches).
    pub fn negotiate(&self, accept_language: Option<&str>) -> &str {
        let requested = fluent_langneg::accepted_languages::parse(accept_language.unwrap_or(""));
        let available: Vec<LanguageIdentifier> =
            self.bundles.iter().map(|(_, id, _)| id.clone()).collect();
        let default = &available[0];
        let chosen = fluent_langneg::negotiate_languages(
            &requested,
            &available,
            Some(default),
            fluent_langneg::NegotiationStrategy::Lookup,
        );
        let chosen = chosen.first().copied().unwrap_or(default);
        self.bundles
            .iter()
            .find(|(_, id, _)| id == chosen)
            .map_or(LANGUAGES[0], |(lang, _, _)| lang)
    }

    /// Whether `lang` has a message `id`.
    pub fn has(&self, lang: &str, id: &str) -> bool {
        self.bundle(lang).has_message(id)
    }

    /// The message `id` in `lang` with `args`; the id itself when no text exists, so a missing
    /// text never hides the error.
    pub fn message(&self, lang: &str, id: &str, args: &BTreeMap<&str, String>) -> String {
        let bundle = self.bundle(lang);
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            return id.to_owned();
        };
        let mut fluent_args = FluentArgs::new();
        for (k, v) in args {
            fluent_args.set(*k, v.clone());
        }
        let mut errors = Vec::new();
        bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors)
            .into_owned()
    }

    fn bundle(&self, lang: &str) -> &FluentBundle<FluentResource> {
        // `new` loads every shipped language, so index 0 (the default) always exists.
        let index = self
            .bundles
            .iter()
            .position(|(name, _, _)| *name == lang)
            .unwrap_or(0);
        &self.bundles[index].2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_schemas::ErrorCode;
    use strum::IntoEnumIterator;

    #[test]
    fn every_error_code_has_text_in_every_language() {
        let l = Localizer::new().unwrap();
        for lang in LANGUAGES {
            for code in ErrorCode::iter() {
                assert!(l.has(lang, code.as_str()), "{lang} lacks {code}");
            }
        }
    }

    #[test]
    fn negotiates_languages() {
        let l = Localizer::new().unwrap();
        assert_eq!(l.negotiate(None), "zh-CN");
        assert_eq!(l.negotiate(Some("en-US")), "en-US");
        assert_eq!(l.negotiate(Some("en")), "en-US");
        assert_eq!(l.negotiate(Some("en-GB,en;q=0.9")), "en-US");
        assert_eq!(l.negotiate(Some("fr-FR")), "zh-CN");
        assert_eq!(l.negotiate(Some("zh-TW,zh;q=0.8")), "zh-CN");
    }

    #[test]
    fn formats_arguments_without_isolation_marks() {
        let l = Localizer::new().unwrap();
        let args = BTreeMap::from([("field", "appellant.uscc".to_owned())]);
        let text = l.message("en-US", "missing_field", &args);
        assert!(text.contains("appellant.uscc"), "{text}");
        assert!(!text.contains('\u{2068}'));
    }
}
