//! `spcm changes`: a tenant's change feed, one JSON change a line .

use std::io::Write;

use anyhow::anyhow;

use crate::config::Settings;
use crate::domain::TenantName;
use crate::store;

/// Changes read per query.
const PAGE: i64 = 1000;

pub fn run(settings: &Settings, tenant: &str, after: i64, limit: Option<u64>) -> anyhow::Result<()> {
    let pool = super::admin::open(settings)?;
    let mut conn = pool.get()?;
    let name = TenantName::parse(tenant).map_err(anyhow::Error::msg)?;
    let tenant_id = store::tenants::find_id(&mut conn, &name)?.ok_or_else(|| anyhow!("no tenant '{name}'"))?;
    let mut remaining = limit.map_or(u64::MAX, |n| n);
    let mut after = after;
    let mut out = std::io::stdout().lock();
    while remaining > 0 {
        let page = store::changes::feed(&mut conn, tenant_id, after, PAGE.min(remaining as i64))?;
        for change in &page {
            writeln!(out, "{}", serde_json::to_string(&change.to_event())?)?;
        }
        match page.last() {
            Some(last) if page.len() as i64 == PAGE.min(remaining as i64) => {
                after = last.id;
                remaining -= page.len() as u64;
            }
            _ => break,
        }
    }
    out.flush()?;
    Ok(())
}
