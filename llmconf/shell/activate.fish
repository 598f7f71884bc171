# llmconf activate fish: a plain `claude` in a worktree llmconf delivers through --settings
# gets that worktree's file; everywhere else claude runs untouched.
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
