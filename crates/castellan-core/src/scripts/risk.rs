//! Auth0's Adaptive MFA signals: `context.riskAssessment` (rules) and
//! `event.authentication.riskAssessment` (actions), assessed from what the tenant log
//! already holds about the user's earlier log-ins. Auth0's shape and codes: an overall
//! `confidence` and three assessors, each with `confidence` and `code`
//! (`low`/`medium`/`high`/`neutral`).
//!
//! - `NewDevice`: the user agent and address against those of the user's successful
//!   log-ins of the last 30 days. Auth0 also keeps a device cookie; without one a device is
//!   the pair of user agent and address.
//! - `ImpossibleTravel`: the distance from the last log-in's location over the time since,
//!   with the GeoIP database (`[scripts] geoip_database`); `neutral` without one.
//! - `UntrustedIP`: Castellan has no threat-intelligence list; its own deny list is the
//!   brute-force protection's blocks, so an address blocked for this user is `low` and any
//!   other is `neutral` (`assessment_not_available`), never a made-up `high`.

use std::net::IpAddr;

use serde_json::{Value, json};

use super::Script;
use super::geoip::{Locate, Location};
use crate::events::RequestContext;
use crate::model::LogEvent;
use crate::store::{Store, StoreResult};

/// How far back earlier log-ins count, as Auth0's 30 days.
const HISTORY_SECONDS: i64 = 30 * 86_400;
/// Log events read for the history (newest first).
const HISTORY_EVENTS: u64 = 200;
/// Successful log-ins: the log-in page's and the password grants'.
const LOGIN_EVENTS: &[&str] = &["s", "sepft", "seotpft", "seoobft", "sercft"];
/// Faster than an airliner is not travel.
const MAX_KM_PER_HOUR: f64 = 1_000.0;
/// Closer than this is the same place, whatever the time.
const SAME_PLACE_KM: f64 = 100.0;

/// Whether any of the scripts reads the assessment: only then is it made.
pub fn wanted(scripts: &[&Script]) -> bool {
    scripts.iter().any(|s| s.source.contains("riskAssessment"))
}

/// What the log-in being assessed is.
pub struct Attempt<'a> {
    pub user_id: &'a str,
    pub request: &'a RequestContext,
    /// Log-ins at or after this time are this one's own events.
    pub before: i64,
}

/// The assessment of a log-in, in Auth0's shape.
pub async fn assess(
    store: &dyn Store,
    locate: Option<&dyn Locate>,
    attempt: &Attempt<'_>,
) -> StoreResult<Value> {
    let since = attempt.before - HISTORY_SECONDS;
    let history: Vec<LogEvent> = store
        .list_logs(Some(attempt.user_id), HISTORY_EVENTS)
        .await?
        .into_iter()
        .filter(|e| {
            LOGIN_EVENTS.contains(&e.event_type.as_str())
                && e.date < attempt.before
                && e.date >= since
        })
        .collect();
    let blocked = store
        .is_login_blocked(attempt.user_id, &attempt.request.ip, 0)
        .await?;
    let assessments = json!({
        "UntrustedIP": untrusted_ip(blocked),
        "NewDevice": new_device(&history, attempt.request),
        "ImpossibleTravel": impossible_travel(&history, attempt, locate),
    });
    Ok(json!({
        "confidence": overall(&assessments),
        "version": "1",
        "assessments": assessments,
    }))
}

fn assessor(confidence: &str, code: &str) -> Value {
    json!({"confidence": confidence, "code": code})
}

fn untrusted_ip(blocked: bool) -> Value {
    if blocked {
        assessor("low", "found_on_deny_list")
    } else {
        assessor("neutral", "assessment_not_available")
    }
}

fn new_device(history: &[LogEvent], request: &RequestContext) -> Value {
    let Some(agent) = request.user_agent.as_deref() else {
        return assessor("neutral", "assessment_not_available");
    };
    if history.is_empty() {
        let mut first = assessor("low", "initial_login");
        first["details"] = json!({"device": "unknown", "useragent": "unknown"});
        return first;
    }
    let agent_known = history
        .iter()
        .any(|e| e.user_agent.as_deref() == Some(agent));
    let device_known = history.iter().any(|e| {
        e.user_agent.as_deref() == Some(agent) && e.ip.as_deref() == Some(request.ip.as_str())
    });
    let (confidence, code) = match (device_known, agent_known) {
        (true, _) => ("high", "match"),
        (false, true) => ("medium", "partial_match"),
        (false, false) => ("low", "no_match"),
    };
    let known = |k: bool| if k { "known" } else { "unknown" };
    let mut value = assessor(confidence, code);
    value["details"] = json!({"device": known(device_known), "useragent": known(agent_known)});
    value
}

fn impossible_travel(
    history: &[LogEvent],
    attempt: &Attempt<'_>,
    locate: Option<&dyn Locate>,
) -> Value {
    let Some(locate) = locate else {
        return assessor("neutral", "missing_geoip");
    };
    let place = |ip: &str| {
        ip.parse::<IpAddr>()
            .ok()
            .and_then(|ip| locate.locate(ip))
            .and_then(|l: Location| Some((l.latitude?, l.longitude?)))
    };
    let Some(here) = place(&attempt.request.ip) else {
        return assessor("neutral", "unknown_location");
    };
    // The newest earlier log-in, with a place.
    let Some((there, at)) = history
        .iter()
        .find_map(|e| Some((place(e.ip.as_deref()?)?, e.date)))
    else {
        return assessor("neutral", "initial_login");
    };
    let km = distance_km(here, there);
    let hours = ((attempt.before - at).max(1) as f64) / 3600.0;
    if km < SAME_PLACE_KM {
        assessor("high", "minimal_travel_from_last_login")
    } else if km / hours <= MAX_KM_PER_HOUR {
        assessor("medium", "travel_from_last_login")
    } else {
        assessor("low", "impossible_travel_from_last_login")
    }
}

/// The great-circle distance (haversine) between two (latitude, longitude) in degrees.
fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    const EARTH_RADIUS_KM: f64 = 6_371.0;
    let (lat1, lat2) = (a.0.to_radians(), b.0.to_radians());
    let d_lat = lat2 - lat1;
    let d_lon = (b.1 - a.1).to_radians();
    let h = (d_lat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (d_lon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().asin()
}

/// The lowest confidence of the assessors that had something to say; `neutral` if none.
fn overall(assessments: &Value) -> &'static str {
    let rank = |c: &str| match c {
        "low" => Some(0),
        "medium" => Some(1),
        "high" => Some(2),
        _ => None,
    };
    let lowest = assessments
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
        .filter_map(|a| rank(a["confidence"].as_str()?))
        .min();
    match lowest {
        Some(0) => "low",
        Some(1) => "medium",
        Some(_) => "high",
        None => "neutral",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(agent: &str, ip: &str, date: i64) -> LogEvent {
        LogEvent {
            log_id: String::new(),
            date,
            event_type: "s".into(),
            description: String::new(),
            client_id: None,
            client_name: None,
            connection: None,
            user_id: Some("auth0|1".into()),
            user_name: None,
            ip: Some(ip.into()),
            user_agent: Some(agent.into()),
            details: Value::Null,
        }
    }

    fn request(agent: Option<&str>, ip: &str) -> RequestContext {
        RequestContext {
            ip: ip.into(),
            user_agent: agent.map(str::to_owned),
        }
    }

    #[test]
    fn a_device_is_known_by_agent_and_address() {
        let history = [login("Firefox", "192.0.2.1", 10)];
        let code = |agent, ip| new_device(&history, &request(agent, ip))["code"].clone();
        assert_eq!(code(Some("Firefox"), "192.0.2.1"), "match");
        assert_eq!(code(Some("Firefox"), "192.0.2.9"), "partial_match");
        assert_eq!(code(Some("Chrome"), "192.0.2.1"), "no_match");
        assert_eq!(code(None, "192.0.2.1"), "assessment_not_available");
        assert_eq!(
            new_device(&[], &request(Some("Firefox"), "192.0.2.1"))["confidence"],
            "low"
        );
    }

    struct Atlas;

    impl Locate for Atlas {
        fn locate(&self, ip: IpAddr) -> Option<Location> {
            let (lat, lon) = match ip.to_string().as_str() {
                "192.0.2.1" => (52.52, 13.40),  // Berlin
                "192.0.2.2" => (52.40, 13.06),  // Potsdam
                "192.0.2.3" => (40.71, -74.01), // New York
                _ => return None,
            };
            Some(Location {
                latitude: Some(lat),
                longitude: Some(lon),
                ..Location::default()
            })
        }
    }

    #[test]
    fn travel_faster_than_a_plane_is_impossible() {
        let history = [login("Firefox", "192.0.2.1", 0)];
        let travel = |ip: &str, before: i64, locate: Option<&dyn Locate>| {
            let req = request(Some("Firefox"), ip);
            let attempt = Attempt {
                user_id: "auth0|1",
                request: &req,
                before,
            };
            impossible_travel(&history, &attempt, locate)["code"].clone()
        };
        assert_eq!(
            travel("192.0.2.2", 60, Some(&Atlas)),
            "minimal_travel_from_last_login"
        );
        assert_eq!(
            travel("192.0.2.3", 3600, Some(&Atlas)),
            "impossible_travel_from_last_login"
        );
        assert_eq!(
            travel("192.0.2.3", 12 * 3600, Some(&Atlas)),
            "travel_from_last_login"
        );
        assert_eq!(travel("192.0.2.9", 60, Some(&Atlas)), "unknown_location");
        assert_eq!(travel("192.0.2.3", 60, None), "missing_geoip");
        let d = distance_km((52.52, 13.40), (40.71, -74.01));
        assert!((6_300.0..6_450.0).contains(&d), "{d}");
    }

    #[test]
    fn the_overall_confidence_is_the_lowest_said() {
        let all = |a: &str, b: &str| json!({"A": {"confidence": a}, "B": {"confidence": b}});
        assert_eq!(overall(&all("high", "neutral")), "high");
        assert_eq!(overall(&all("high", "medium")), "medium");
        assert_eq!(overall(&all("low", "high")), "low");
        assert_eq!(overall(&all("neutral", "neutral")), "neutral");
    }
}
