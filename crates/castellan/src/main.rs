#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    castellan::cli::main()
}
