# fish completion for hb.
#
# Load it with `hb completions fish | source`, or install it as
# ~/.config/fish/completions/hb.fish.
#
# Candidates come from `hb completions --complete -- <words>`, which reads
# the repository's files only and prints nothing when anything fails.

function __hb_complete
    set -l typed (commandline -opc)
    set -l current (commandline -ct)
    set -l reply (hb completions --complete -- $typed "$current" 2>/dev/null)
    set -q reply[1]; or return

    set -l kind $reply[1]
    set -e reply[1]
    switch $kind
        case words
            set -q reply[1]; and printf '%s\n' $reply
        case files
            set -l prefix "$reply[1]"
            set -l path (string sub -s (math (string length -- "$prefix") + 1) -- "$current")
            for candidate in (__fish_complete_path "$path")
                printf '%s%s\n' "$prefix" "$candidate"
            end
    end
end

# -k keeps the order given, such as newest runs first.
complete -c hb -f -k -a '(__hb_complete)'
