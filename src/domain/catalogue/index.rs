//! A stored catalogue with its lookups by id, built once per version and shared.

use std::collections::HashMap;

use super::CatalogueDocument;

/// Position of a bundled commercial product: (bundled product, subscription type, itself).
pub type BcpPosition = (usize, usize, usize);

pub struct CatalogueIndex {
    pub version: i64,
    pub document: CatalogueDocument,
    pub services: HashMap<String, usize>,
    pub base_profiles: HashMap<String, usize>,
    pub value_added_services: HashMap<String, usize>,
    pub commercial_products: HashMap<String, usize>,
    pub bundled_products: HashMap<String, usize>,
    pub bundled_commercial_products: HashMap<String, BcpPosition>,
}

fn by_id<T>(items: &[T], id: impl Fn(&T) -> &str) -> HashMap<String, usize> {
    items.iter().enumerate().map(|(i, item)| (id(item).to_owned(), i)).collect()
}

impl CatalogueIndex {
    pub fn new(version: i64, document: CatalogueDocument) -> Self {
        let mut bundled_commercial_products = HashMap::new();
        for (b, bundled) in document.bundled_products.iter().enumerate() {
            for (s, subs_type) in bundled.bundled_product_subs_types.iter().enumerate() {
                for (c, product) in subs_type.bundled_commercial_products.iter().enumerate() {
                    bundled_commercial_products.insert(product.id.clone(), (b, s, c));
                }
            }
        }
        CatalogueIndex {
            version,
            services: by_id(&document.services, |s| &s.id),
            base_profiles: by_id(&document.base_profiles, |b| &b.id),
            value_added_services: by_id(&document.value_added_services, |v| &v.id),
            commercial_products: by_id(&document.commercial_products, |c| &c.id),
            bundled_products: by_id(&document.bundled_products, |b| &b.id),
            bundled_commercial_products,
            document,
        }
    }
}
