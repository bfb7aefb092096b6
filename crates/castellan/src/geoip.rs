//! The `geoip` of log-in scripts from a MaxMind database (`GeoLite2-City.mmdb` or any
//! database of the GeoIP2 City layout), read once at start.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use castellan_core::scripts::geoip::{Locate, Location};
use maxminddb::{Reader, geoip2};

/// An opened database; cloning shares it.
#[derive(Clone)]
pub struct GeoIpDatabase {
    path: PathBuf,
    reader: Arc<Reader<Vec<u8>>>,
}

impl fmt::Debug for GeoIpDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeoIpDatabase")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl GeoIpDatabase {
    /// Reads the database; the error names what is wrong with it.
    pub fn open(path: &Path) -> Result<GeoIpDatabase, String> {
        let reader = Reader::open_readfile(path).map_err(|e| match e {
            maxminddb::MaxMindDbError::Io(io) => format!("cannot open {}: {io}", path.display()),
            other => format!("{} is not a MaxMind database: {other}", path.display()),
        })?;
        Ok(GeoIpDatabase {
            path: path.to_owned(),
            reader: Arc::new(reader),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Locate for GeoIpDatabase {
    fn locate(&self, ip: IpAddr) -> Option<Location> {
        // A dual-stack listener sees IPv4 clients as `::ffff:a.b.c.d`.
        let found = self.reader.lookup(ip.to_canonical()).ok()?;
        let city: geoip2::City<'_> = found.decode().ok()??;
        let subdivision = city.subdivisions.first();
        let location = Location {
            country_code: city.country.iso_code.map(str::to_owned),
            country_name: city.country.names.english.map(str::to_owned),
            city_name: city.city.names.english.map(str::to_owned),
            latitude: city.location.latitude,
            longitude: city.location.longitude,
            time_zone: city.location.time_zone.map(str::to_owned),
            continent_code: city.continent.code.map(str::to_owned),
            subdivision_code: subdivision.and_then(|s| s.iso_code).map(str::to_owned),
            subdivision_name: subdivision.and_then(|s| s.names.english).map(str::to_owned),
        };
        (location != Location::default()).then_some(location)
    }
}
