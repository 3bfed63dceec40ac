# Reads a plugin's plugins.d output and prints the id of every chart whose last CHART
# line is not marked obsolete. Words are split like the agent does: blanks separate,
# a word starting with ' or " runs to the matching quote.

function split_words(line, words,    n, quote, end) {
    n = 0
    while (1) {
        sub(/^[ \t]+/, "", line)
        if (line == "")
            return n
        quote = substr(line, 1, 1)
        if (quote == "'" || quote == "\"") {
            end = index(substr(line, 2), quote)
            if (end == 0)
                end = length(line)
            words[++n] = substr(line, 2, end - 1)
            line = substr(line, end + 2)
        } else {
            match(line, /^[^ \t]+/)
            words[++n] = substr(line, 1, RLENGTH)
            line = substr(line, RLENGTH + 1)
        }
    }
}

/^CHART / {
    delete w
    split_words($0, w)
    # CHART type.id name title units family context charttype priority update_every options ...
    obsolete[w[2]] = (w[11] ~ /(^|[ \t])obsolete([ \t]|$)/)
}

END {
    for (id in obsolete)
        if (!obsolete[id])
            print id
}
