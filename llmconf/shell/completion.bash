_llmconf_dequote() {  # WORD: the text a shell word stands for, quotes and escapes removed
    # No eval: a word being typed may hold $(...), and Tab must never run it.
    local word=$1 out= quote= c i
    for ((i = 0; i < ${#word}; i++)); do
        c=${word:i:1}
        if [[ $quote == "'" ]]; then
            [[ $c == "'" ]] && quote= || out+=$c
        elif [[ $c == '\' ]]; then
            ((i++))
            c=${word:i:1}
            [[ $quote == '"' && $c != [\$\`\"\\] ]] && out+='\'
            out+=$c
        elif [[ -n $quote ]]; then
            [[ $c == '"' ]] && quote= || out+=$c
        elif [[ $c == [\'\"] ]]; then
            quote=$c
        else
            out+=$c
        fi
    done
    printf '%s' "$out"
}

_llmconf_names() {  # profiles|worktrees [CONFIG_DIR]: names from the config, one a line
    local exe=${COMP_WORDS[0]}
    [[ $(type -t "$exe") == file ]] || exe=llmconf
    if [[ -n $2 ]]; then
        "$exe" -C "$2" completion --names "$1" 2>/dev/null
    else
        "$exe" completion --names "$1" 2>/dev/null
    fi
}

_llmconf_offer() {  # KINDS CUR CONFIG_DIR: fill COMPREPLY
    # Names are matched in a plain loop: compgen -W would expand them ($x, quotes, [1]).
    local kind name cur raw=0 before
    local -a found=()
    cur=$(_llmconf_dequote "$2")
    # After an opening quote readline replaces only the text inside it, and quotes a match
    # for that quote only under -o filenames; otherwise each match is quoted here.
    [[ $2 == [\'\"]* ]] && raw=1
    for kind in $1; do
        case $kind in
            profiles | worktrees)
                before=${#found[@]}
                while IFS= read -r name; do
                    [[ -n $name && $name == "$cur"* ]] && found+=("$name")
                done < <(_llmconf_names "$kind" "$3")
                # A WORKTREE may be a path too: offer folders when one is typed or no name fits.
                if [[ $kind == worktrees ]] && [[ $cur == */* || $cur == [.~]* || ${#found[@]} == "$before" ]]; then
                    raw=1
                    while IFS= read -r name; do found+=("$name"); done < <(compgen -d -- "$cur")
                fi ;;
            files | dirs)
                raw=1
                while IFS= read -r name; do found+=("$name"); done < <(compgen "-${kind:0:1}" -- "$cur") ;;
            choices=*)
                while IFS= read -r -d , name; do
                    [[ $name == "$cur"* ]] && found+=("$name")
                done <<<"${kind#choices=}," ;;
        esac
    done
    if ((raw)); then
        compopt -o filenames 2>/dev/null
        COMPREPLY+=("${found[@]}")
    else
        for name in "${found[@]}"; do
            printf -v name %q "$name"
            COMPREPLY+=("$name")
        done
    fi
}

_llmconf() {
    local cur=${COMP_WORDS[COMP_CWORD]} cmd= cfg= word kinds= i=1 n=0
    COMPREPLY=()
    while ((i < COMP_CWORD)); do
        word=${COMP_WORDS[i]}
        if [[ $word == -* ]]; then
            if [[ $word != *=* ]] && kinds=$(_llmconf_optarg "$cmd" "$word"); then
                if ((i + 1 == COMP_CWORD)); then
                    _llmconf_offer "$kinds" "$cur" "$cfg"
                    return 0
                fi
                if [[ $word == -C ]]; then
                    cfg=$(_llmconf_dequote "${COMP_WORDS[i + 1]}")
                    [[ ${COMP_WORDS[i + 1]} == \~* ]] && cfg=${cfg/#\~/$HOME}
                fi
                ((i += 2))
                continue
            fi
        elif ((n == 0)) && [[ " $(_llmconf_subs "$cmd") " == *" $word "* ]]; then
            cmd=${cmd:+$cmd }$word
        else
            ((n++))
        fi
        ((i++))
    done
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_llmconf_opts "$cmd")" -- "$cur"))
        return 0
    fi
    local subs
    subs=$(_llmconf_subs "$cmd")
    if [[ -n $subs ]] && ((n == 0)); then
        COMPREPLY=($(compgen -W "$subs" -- "$cur"))
        return 0
    fi
    _llmconf_offer "$(_llmconf_pos "$cmd" "$n")" "$cur" "$cfg"
}

complete -F _llmconf llmconf
