//! Log-in: the steps that turn credentials into a user, shared by the password grants and
//! the log-in page.

pub mod authorize;
pub mod console;
pub mod device;
pub mod first_login;
pub mod password;
pub mod recovery;
pub mod redirect;
pub mod session;
