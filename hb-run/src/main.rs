fn main() -> std::process::ExitCode {
    hb_cli::run::main()
}
