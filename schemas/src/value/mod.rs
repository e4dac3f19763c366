//! The lowest layer: identifiers, error codes and values that depend on nothing else in the
//! domain (time limits, ticket numbers, USCC, units, the taxonomy).

pub mod error;
pub mod ids;
pub mod limit;
pub mod taxonomy;
pub mod ticket;
pub mod unit;
pub mod uscc;

/// A closed set of names with a stable snake_case code (in the API and the database):
/// serialised, parsed, listed and shown by it.
macro_rules! snake_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
            strum::Display, strum::EnumString, strum::EnumIter, strum::IntoStaticStr,
        )]
        #[serde(rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// The stable snake_case code used in the API and the database.
            pub fn as_str(self) -> &'static str {
                self.into()
            }
        }
    };
}
pub(crate) use snake_enum;
