# bash completion for hb.
#
# Load it with `source <(hb completions bash)`, or install it as
# /usr/share/bash-completion/completions/hb. It works best with the
# bash-completion package loaded, which lets words contain `=` and `:`.
#
# Candidates come from `hb completions --complete -- <words>`, which reads
# the repository's files only and prints nothing when anything fails.

# Removes shell quoting from $1 into REPLY, without eval, so that a word
# such as $(cmd) is never run.
_hb_dequote() {
    local word=$1 quote="" char i
    REPLY=""
    for ((i = 0; i < ${#word}; i++)); do
        char=${word:i:1}
        if [[ $quote == "'" ]]; then
            if [[ $char == "'" ]]; then quote=""; else REPLY+=$char; fi
        elif [[ $char == '\' ]]; then
            i=$((i + 1))
            REPLY+=${word:i:1}
        elif [[ $char == "'" || $char == '"' ]]; then
            if [[ -z $quote ]]; then
                quote=$char
            elif [[ $quote == "$char" ]]; then
                quote=""
            else
                REPLY+=$char
            fi
        else
            REPLY+=$char
        fi
    done
}

_hb() {
    local cur words cword
    if declare -F _get_comp_words_by_ref >/dev/null; then
        _get_comp_words_by_ref -n =: cur words cword
    else
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
        cur=${COMP_WORDS[COMP_CWORD]}
    fi

    local REPLY
    _hb_dequote "$cur"
    local typed=$REPLY

    local -a reply
    mapfile -t reply < <(hb completions --complete -- "${words[@]:0:cword}" "$typed" 2>/dev/null)
    COMPREPLY=()

    case ${reply[0]-} in
    words)
        local line value needs_quoting=""
        for line in "${reply[@]:1}"; do
            value=${line%%$'\t'*}
            if [[ $value == "$typed"* ]]; then
                COMPREPLY+=("$value")
                [[ $value == *[!A-Za-z0-9_./@%+,=:-]* ]] && needs_quoting=1
            fi
        done
        # Bash replaces only the text after the last `=` or `:` that
        # COMP_WORDBREAKS splits at, so drop the text up to it.
        local head=${typed%"${typed##*[=:]}"} char i
        for ((i = ${#head} - 1; i >= 0; i--)); do
            char=${head:i:1}
            if [[ $char == [=:] && $COMP_WORDBREAKS == *"$char"* ]]; then
                head=${head:0:i+1}
                for i in "${!COMPREPLY[@]}"; do
                    COMPREPLY[i]=${COMPREPLY[i]#"$head"}
                done
                break
            fi
        done
        compopt -o nosort 2>/dev/null
        # Readline quotes the inserted word only for file names, so values
        # with spaces or shell metacharacters are passed as file names.
        [[ -n $needs_quoting ]] && compopt -o filenames 2>/dev/null
        ;;
    files)
        local prefix=${reply[1]-}
        cur=${cur#"$prefix"}
        if declare -F _filedir >/dev/null; then
            _filedir
        else
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            compopt -o filenames 2>/dev/null
        fi
        if [[ -n $prefix && $COMP_WORDBREAKS != *=* ]]; then
            COMPREPLY=("${COMPREPLY[@]/#/$prefix}")
        fi
        ;;
    esac
    return 0
}

complete -F _hb hb
