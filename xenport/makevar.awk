# Print the value of variable `name` from a (generated) Makefile, joining
# backslash-continued lines: awk -v name=SOURCES -f makevar.awk Makefile
function emit(s) { sub(/\\[ \t]*$/, "", s); printf "%s ", s }
$0 ~ "^" name "[ \t]*=" && !done {
    line = $0
    sub("^" name "[ \t]*=[ \t]*", "", line)
    emit(line)
    cont = ($0 ~ /\\[ \t]*$/)
    done = !cont
    next
}
cont {
    emit($0)
    cont = ($0 ~ /\\[ \t]*$/)
    if (!cont) done = 1
}
END { printf "\n" }
