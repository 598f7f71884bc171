# llmconf activate fish: a plain `claude` in a worktree llmconf delivers through --settings
# gets that worktree's file, and a plain `opencode` (or another agent
# llmconf configures) in a worktree whose key file llmconf keeps runs through llmconf exec,
# which hands it over; everywhere else they run untouched.
set -gx LLMCONF_ACTIVATED {root}
# The file NAME that llmconf keeps for the folder holding $PWD (or one above it), if any.
function __llmconf_kept
    set -l d $PWD
    while true
        if test -f {root}"$d"/$argv[1]
            echo {root}"$d"/$argv[1]
            return 0
        end
        test -z "$d"; and return 1
        set d (string replace -r '/[^/]*$' '' -- $d)
    end
end
function claude --description 'claude with the worktree delivery of llmconf'
    if set -l f (__llmconf_kept {name})
        command claude --settings $f $argv
    else
        command claude $argv
    end
end
{agents}