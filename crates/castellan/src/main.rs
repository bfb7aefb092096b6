#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    // The rules sandbox starts this binary again as its worker processes.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == castellan_rules::WORKER_ARG)
    {
        return castellan_rules::worker_main();
    }
    castellan::cli::main()
}
