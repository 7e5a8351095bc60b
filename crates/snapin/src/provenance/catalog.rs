//! Catalogs (stub).
pub struct Catalog;
