# bench/plot.gp - box plots of the per-container start-to-exit latency of every row, one
# panel per pass (GAP_MS). Run by bench/run.sh, which defines ROWS, GAPS (space-separated
# words), DATADIR (one file <gap>-<row>.dat per pass and row, one ms value a line), OUTFILE
# and TITLE first:
#   gnuplot -e "load 'bench/out/plot-vars.gp'" bench/plot.gp
# Boxes: quartiles; whiskers: 1.5 IQR; points: outliers; log scale.

npass = words(GAPS)
nrows = words(ROWS)
set terminal svg size 1100, (npass * 380 + 40) dynamic font "sans,11" background "white"
set output OUTFILE
set style data boxplot
set style boxplot outliers pointtype 7
set pointsize 0.4
set boxwidth 0.6
set style fill solid 0.35 border -1
set logscale y 10
set grid ytics mytics
set ytics (1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 1000)
set ylabel "ms per container (log)"
set xrange [0.4 : nrows + 0.6]
set xtics () scale 0
do for [i = 1:nrows] { set xtics add (word(ROWS, i) i) }
unset key
set multiplot layout npass, 1 title TITLE
do for [p = 1:npass] {
    g = word(GAPS, p) + 0
    set title (g == 0 ? "back to back (GAP\\_MS=0)" : sprintf("%d ms idle before each run (GAP\\_MS=%d)", g, g))
    plot for [i = 1:nrows] sprintf("%s/%d-%s.dat", DATADIR, g, word(ROWS, i)) using (i):1 lc i
}
unset multiplot
