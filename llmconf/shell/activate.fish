# llmconf activate fish: a plain `claude` in a worktree llmconf delivers through --settings
# gets that worktree's file, and a plain `opencode` in a worktree whose opencode key llmconf
# keeps gets that key (through llmconf exec); everywhere else both run untouched.
set -gx LLMCONF_ACTIVATED {root}
function claude --description 'claude with the worktree delivery of llmconf'
    set -l d $PWD
    while true
        if test -f {root}"$d"/{name}
            command claude --settings {root}"$d"/{name} $argv
            return $status
        end
        test -z "$d"; and break
        set d (string replace -r '/[^/]*$' '' -- $d)
    end
    command claude $argv
end
function opencode --description 'opencode with the worktree key llmconf keeps'
    set -l d $PWD
    while true
        if test -f {root}"$d"/{opencode_key}
            command {llmconf} exec -- opencode $argv
            return $status
        end
        test -z "$d"; and break
        set d (string replace -r '/[^/]*$' '' -- $d)
    end
    command opencode $argv
end
