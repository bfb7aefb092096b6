//! Where a log-in comes from, for `context.request.geoip` (rules) and
//! `event.request.geoip` (actions). Core only names the port: the server reads a MaxMind
//! database behind it, so the domain builds without one.
//!
//! The names are Auth0's: snake case for rules (`country_code`, `country_code3`,
//! `city_name`, ..., as its log entries' `location_info` too), camel case for actions
//! (`countryCode`, `countryCode3`, `cityName`, ...). A field the database does not know is
//! left out; an address it does not know gives `{}`, as a log-in without a database does.

use std::net::IpAddr;

use serde_json::{Map, Value, json};

use super::countries;

/// What a database says about an address; English names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Location {
    /// ISO 3166-1 alpha-2.
    pub country_code: Option<String>,
    pub country_name: Option<String>,
    pub city_name: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// A tz database name (`Europe/Berlin`).
    pub time_zone: Option<String>,
    /// `AF`, `AN`, `AS`, `EU`, `NA`, `OC` or `SA`.
    pub continent_code: Option<String>,
    /// The largest subdivision's ISO 3166-2 code without the country (`BE` for Berlin).
    pub subdivision_code: Option<String>,
    pub subdivision_name: Option<String>,
}

/// Looks addresses up.
pub trait Locate: Send + Sync {
    fn locate(&self, ip: IpAddr) -> Option<Location>;
}

impl Location {
    /// `(rules' name, actions' name, value)` for each field known.
    fn fields(&self) -> Vec<(&'static str, &'static str, Value)> {
        let text = |v: &Option<String>| v.as_ref().map(|s| json!(s));
        let number = |v: Option<f64>| v.map(|n| json!(n));
        let code3 = self
            .country_code
            .as_deref()
            .and_then(countries::alpha3)
            .map(|c| json!(c));
        [
            ("country_code", "countryCode", text(&self.country_code)),
            ("country_code3", "countryCode3", code3),
            ("country_name", "countryName", text(&self.country_name)),
            ("city_name", "cityName", text(&self.city_name)),
            ("latitude", "latitude", number(self.latitude)),
            ("longitude", "longitude", number(self.longitude)),
            ("time_zone", "timeZone", text(&self.time_zone)),
            (
                "continent_code",
                "continentCode",
                text(&self.continent_code),
            ),
            (
                "subdivision_code",
                "subdivisionCode",
                text(&self.subdivision_code),
            ),
            (
                "subdivision_name",
                "subdivisionName",
                text(&self.subdivision_name),
            ),
        ]
        .into_iter()
        .filter_map(|(rule, action, value)| Some((rule, action, value?)))
        .collect()
    }

    /// `context.request.geoip`.
    pub fn rule_json(&self) -> Value {
        let map: Map<String, Value> = self
            .fields()
            .into_iter()
            .map(|(name, _, value)| (name.to_owned(), value))
            .collect();
        Value::Object(map)
    }

    /// `event.request.geoip`.
    pub fn action_json(&self) -> Value {
        let map: Map<String, Value> = self
            .fields()
            .into_iter()
            .map(|(_, name, value)| (name.to_owned(), value))
            .collect();
        Value::Object(map)
    }
}

/// Puts what `locate` knows of the log-in's address into a rule's `context` and an
/// action's `event`; they keep `{}` otherwise.
pub(super) fn fill(locate: &dyn Locate, ip: &str, context: &mut Value, event: &mut Value) {
    let Some(location) = ip.parse::<IpAddr>().ok().and_then(|ip| locate.locate(ip)) else {
        return;
    };
    context["request"]["geoip"] = location.rule_json();
    event["request"]["geoip"] = location.action_json();
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Berlin;

    impl Locate for Berlin {
        fn locate(&self, ip: IpAddr) -> Option<Location> {
            (ip.to_string() == "203.0.113.7").then(|| Location {
                country_code: Some("DE".into()),
                country_name: Some("Germany".into()),
                city_name: Some("Berlin".into()),
                latitude: Some(52.5),
                longitude: Some(13.4),
                time_zone: Some("Europe/Berlin".into()),
                continent_code: Some("EU".into()),
                subdivision_code: Some("BE".into()),
                subdivision_name: None,
            })
        }
    }

    #[test]
    fn rules_and_actions_get_their_own_names_and_unknown_addresses_nothing() {
        let mut context = json!({"request": {"geoip": {}}});
        let mut event = json!({"request": {"geoip": {}}});
        fill(&Berlin, "203.0.113.7", &mut context, &mut event);
        assert_eq!(
            context["request"]["geoip"],
            json!({"country_code": "DE", "country_code3": "DEU", "country_name": "Germany",
                   "city_name": "Berlin", "latitude": 52.5, "longitude": 13.4,
                   "time_zone": "Europe/Berlin", "continent_code": "EU",
                   "subdivision_code": "BE"})
        );
        assert_eq!(
            event["request"]["geoip"],
            json!({"countryCode": "DE", "countryCode3": "DEU", "countryName": "Germany",
                   "cityName": "Berlin", "latitude": 52.5, "longitude": 13.4,
                   "timeZone": "Europe/Berlin", "continentCode": "EU",
                   "subdivisionCode": "BE"})
        );
        let mut context = json!({"request": {"geoip": {}}});
        let mut event = json!({"request": {"geoip": {}}});
        for unknown in ["198.51.100.1", "not an address"] {
            fill(&Berlin, unknown, &mut context, &mut event);
            assert_eq!(context["request"]["geoip"], json!({}));
            assert_eq!(event["request"]["geoip"], json!({}));
        }
    }
}
