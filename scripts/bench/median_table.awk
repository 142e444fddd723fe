# The table the bench_*.sh scripts print: lines "<tag> <figure> <ms>" with tags nnsh,
# torch and torch1 (PyTorch on one OpenBLAS thread), several rounds each; per figure the
# median of each tag and nnsh's median over PyTorch's better one.
{
  values[$1 " " $2] = values[$1 " " $2] " " $3
  if (!($2 in seen)) { seen[$2] = 1; names[++count] = $2 }
}
function median(list,    n, a, i, j, t) {
  n = split(list, a, " ")
  for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
  return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
END {
  printf "%-22s %10s %10s %14s %12s\n", "figure", "nnsh", "torch", "torch 1 thread", "nnsh/best"
  for (k = 1; k <= count; k++) {
    name = names[k]
    a = median(values["nnsh " name]); b = median(values["torch " name]); c = median(values["torch1 " name])
    best = b < c ? b : c
    printf "%-22s %10.2f %10.2f %14.2f %12.2f\n", name, a, b, c, a / best
  }
}
