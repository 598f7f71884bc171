_llmconf_names() {  # profiles|worktrees [CONFIG_DIR]: names from the config, one a line
    local exe=${words[1]/#\~/$HOME}
    [[ $exe == */* && -x $exe ]] || exe=llmconf
    $exe ${2:+-C} ${2:+$2} completion --names $1 2>/dev/null
}

_llmconf_offer() {  # KINDS CONFIG_DIR
    local kind ret=1
    local -a names
    for kind in ${=1}; do
        case $kind in
            profiles|worktrees)
                names=(${(f)"$(_llmconf_names $kind $2)"})
                local added=1
                (( $#names )) && compadd -a names && ret=0 && added=0
                # A WORKTREE may be a path too: offer folders when one is typed or no name fits.
                if [[ $kind == worktrees && ( $PREFIX == */* || $PREFIX == [.~]* || $added == 1 ) ]]; then
                    _files -/ && ret=0
                fi ;;
            files) _files && ret=0 ;;
            dirs) _files -/ && ret=0 ;;
            choices=*) names=(${(s:,:)kind#choices=}); compadd -a names && ret=0 ;;
        esac
    done
    return ret
}

_llmconf() {
    local cmd= cfg= word REPLY
    local -i i=2 n=0
    local -a subs opts
    while (( i < CURRENT )); do
        word=$words[i]
        if [[ $word == -* ]]; then
            if [[ $word != *=* ]] && _llmconf_optarg "$cmd" "$word"; then
                if (( i + 1 == CURRENT )); then
                    _llmconf_offer "$REPLY" "$cfg"
                    return
                fi
                [[ $word == -C ]] && cfg=${${(Q)words[i+1]}/#\~/$HOME}
                (( i += 2 ))
                continue
            fi
        else
            subs=()
            _llmconf_spec "$cmd"
            if (( n == 0 && ${subs[(I)${(b)word}:*]} )); then
                cmd=${cmd:+$cmd }$word
            else
                (( n++ ))
            fi
        fi
        (( i++ ))
    done
    subs=() opts=()
    _llmconf_spec "$cmd"
    if [[ $PREFIX == -* ]]; then
        _describe -t options 'llmconf option' opts
        return
    fi
    if (( $#subs && n == 0 )); then
        _describe -t commands 'llmconf command' subs
        return
    fi
    REPLY=
    _llmconf_pos "$cmd" $n
    _llmconf_offer "$REPLY" "$cfg"
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _llmconf "$@"  # autoloaded from $fpath: this is the first completion
else
    (( $+functions[compdef] )) || { autoload -Uz compinit && compinit -i }
    compdef _llmconf llmconf
fi
