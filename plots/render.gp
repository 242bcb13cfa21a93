# Draw every curve of plot.dat into <dir>/<name>.png (pngcairo when this gnuplot
# has it, else png) and <dir>/<name>.svg. Loaded last by each figure script.
png_terminal = strstrt(GPVAL_TERMINALS, 'pngcairo') ? 'pngcairo' : 'png'
do for [format in 'png svg'] {
    if (format eq 'png') {
        eval 'set terminal '.png_terminal.' size 1000,640 font "Sans,11"'
    } else {
        set terminal svg size 1000,640 dynamic font 'Sans,11'
    }
    set termoption noenhanced
    set output dir.'/'.name.'.'.format
    plot for [i=1:n_curves] data index (i - 1) using 1:2 with linespoints ls ((i - 1) % 8 + 1) pointinterval point_every title titles[i]
}
set output
