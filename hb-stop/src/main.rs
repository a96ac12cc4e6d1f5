fn main() -> std::process::ExitCode {
    hb_cli::stop::main()
}
