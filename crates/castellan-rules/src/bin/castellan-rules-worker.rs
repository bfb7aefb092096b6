//! A worker process of the rules sandbox, for programs that do not start their own binary
//! as one (this crate's tests). The server runs `castellan rules-worker` instead.

fn main() -> std::process::ExitCode {
    castellan_rules::worker_main()
}
