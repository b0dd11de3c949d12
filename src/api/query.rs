//! Query strings, read one way (contract §1.1): each known parameter at most once,
//! checked in the order given, unknown parameters ignored. The type a query is read into
//! is the one the OpenAPI document shows.

use std::fmt;

use crate::domain::InvalidValue;

/// The parameters of one operation's query, read into their fields.
pub trait QueryParams: Default {
    /// The parameters read; any other is ignored.
    const NAMES: &'static [&'static str];

    /// Reads `value` into the field of `name`, one of [`Self::NAMES`].
    fn read(&mut self, name: &str, value: &str) -> Result<(), InvalidValue>;
}

/// A parameter given twice or with a value that is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadParameter {
    pub name: String,
    pub problem: String,
}

impl fmt::Display for BadParameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "query parameter {}: {}", self.name, self.problem)
    }
}

/// `query` read into `Q`; the first problem, in the order of the query, stops it.
pub fn parse<Q: QueryParams>(query: &str) -> Result<Q, BadParameter> {
    let mut params = Q::default();
    let mut seen = Vec::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if !Q::NAMES.contains(&name.as_ref()) {
            continue;
        }
        let bad = |problem: String| BadParameter { name: name.clone().into_owned(), problem };
        if seen.contains(&name) {
            return Err(bad("given more than once".into()));
        }
        params.read(&name, &value).map_err(|invalid| bad(invalid.into_description()))?;
        seen.push(name);
    }
    Ok(params)
}

/// An `offset` or `after`: an integer ≥ 0.
pub fn at_least_zero(value: &str) -> Result<i64, InvalidValue> {
    value.parse().ok().filter(|n| *n >= 0).ok_or_else(|| InvalidValue::new("must be an integer ≥ 0"))
}

/// A `limit`: an integer from 1 to 1000.
pub fn limit(value: &str) -> Result<i64, InvalidValue> {
    value
        .parse()
        .ok()
        .filter(|n| (1..=1000).contains(n))
        .ok_or_else(|| InvalidValue::new("must be an integer from 1 to 1000"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default)]
    struct Page {
        offset: Option<i64>,
        limit: Option<i64>,
    }

    impl QueryParams for Page {
        const NAMES: &'static [&'static str] = &["offset", "limit"];

        fn read(&mut self, name: &str, value: &str) -> Result<(), InvalidValue> {
            match name {
                "offset" => self.offset = Some(at_least_zero(value)?),
                _ => self.limit = Some(limit(value)?),
            }
            Ok(())
        }
    }

    #[test]
    fn each_parameter_once_the_first_problem_in_query_order() {
        let page = parse::<Page>("limit=5&other=x&other=y&offset=2").unwrap();
        assert_eq!((page.offset, page.limit), (Some(2), Some(5)));
        let twice = parse::<Page>("limit=5&limit=6").unwrap_err();
        assert_eq!(twice.to_string(), "query parameter limit: given more than once");
        let first = parse::<Page>("limit=0&offset=-1").unwrap_err();
        assert_eq!(first.to_string(), "query parameter limit: must be an integer from 1 to 1000");
        assert_eq!(parse::<Page>("offset=x&offset=1").unwrap_err().problem, "must be an integer ≥ 0");
    }
}
