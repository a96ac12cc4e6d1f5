fn main() -> std::process::ExitCode {
    hb_cli::logs::main()
}
