# Box + strip plot of detection_precision's data file, one column per mechanism.
# gnuplot -e "data='detection_precision.dat'; out='detection_precision.png'" plot_precision.gp
if (!exists("data")) data = 'detection_precision.dat'
if (!exists("out")) out = 'detection_precision.png'
set terminal pngcairo size 1300,560 noenhanced font ",10"
set output out
set style boxplot nooutliers
set style fill transparent solid 0.25 border
set boxwidth 0.5
set xtics ("missed\ncount" 0, "phi\naccrual" 1, "Beast\nkeepalive" 2, "ZeroMQ\nheartbeat" 3, "TCP\nkeepalive" 4)
set xrange [-0.6:4.6]
set grid ytics
set key off
set bmargin 4
set multiplot layout 1,2 title "Frozen peer (SIGSTOP at a random instant), every mechanism tolerating the same silence B"
set title "detection time from the freeze / B"
set yrange [0:*]
set label 1 "TCP keepalive:\nnever (kernel\nanswers probes)" at 4, graph 0.12 center font ",8"
plot for [i=0:3] data using (i):(column(1) == i ? column(5) : NaN) with boxplot lc rgb "#3366aa", \
     data using (column(1) + 0.3*(rand(0)-0.5)):(column(5)) with points pt 7 ps 0.5 lc rgb "#aa3333"
set title "silence at the verdict / B"
plot for [i=0:3] data using (i):(column(1) == i ? column(6) : NaN) with boxplot lc rgb "#3366aa", \
     data using (column(1) + 0.3*(rand(0)-0.5)):(column(6)) with points pt 7 ps 0.5 lc rgb "#aa3333"
unset multiplot
