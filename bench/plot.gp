# Orders/s against connections for each system (medians from bench/orders.sh).
#   gnuplot -e "datafile='bench/results/orders.dat'; outfile='bench/orders.png'" bench/plot.gp
if (!exists("datafile")) datafile = 'bench/results/orders.dat'
if (!exists("outfile")) outfile = 'bench/orders.png'
if (!exists("subtitle")) subtitle = ''
set terminal pngcairo size 900,720 enhanced font 'Sans,11'
set output outfile
set title "POST /api/orders: orders per second (median of 3 runs, fsync on)\n{/*0.8 ".subtitle."}"
set xlabel 'concurrent connections (wrk) / clients (pgbench, threads)'
set ylabel 'orders/s (log scale)'
set logscale xy
set xrange [0.8:80]
set xtics ('1' 1, '8' 8, '64' 64)
set yrange [10:*]
set grid ytics mytics xtics lc rgb '#dddddd'
set key below horizontal maxrows 3 box spacing 1.2 width 2 height 0.5
set xlabel offset 0,0.3
set bmargin 10
set datafile missing 'nan'
set pointsize 1.4
plot datafile using 1:2 with linespoints lw 3 pt 7 lc rgb '#1f77b4' title 'tokenq, PostgreSQL', \
     ''       using 1:3 with linespoints lw 3 pt 5 lc rgb '#2ca02c' title 'tokenq, SQLite', \
     ''       using 1:4 with linespoints lw 2 pt 9 lc rgb '#d62728' title 'seed peer (Prisma), PostgreSQL', \
     ''       using 1:5 with linespoints lw 2 dt 2 pt 6 lc rgb '#1f77b4' title 'pgbench, 1 order/txn', \
     ''       using 1:6 with linespoints lw 2 dt 3 pt 6 lc rgb '#7f7f7f' title 'pgbench, 1 order/txn, 1 statement', \
     ''       using 1:7 with linespoints lw 2 dt 2 pt 4 lc rgb '#2ca02c' title 'SQLite, 1 order/txn (C, threads)'
