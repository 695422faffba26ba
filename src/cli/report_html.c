/* The report's page (one self-contained HTML file: the style sheet inline, no scripts, no
 * fonts, no network) and the display units shared by its tables and charts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chart.h"
#include "report.h"
#include "wattprof.h"

void report_scale_pick(struct report_scale *sc, double max_abs, const char *base_unit)
{
    sc->factor = 1;
    snprintf(sc->unit, sizeof(sc->unit), "%s", base_unit);
    if (!base_unit[0] || !isfinite(max_abs) || max_abs <= 0)
        return;
    if (strcmp(base_unit, "s") == 0 && max_abs >= 7200) {
        sc->factor = 1.0 / 3600;
        snprintf(sc->unit, sizeof(sc->unit), "h");
        return;
    }
    if (strcmp(base_unit, "s") == 0 && max_abs >= 120) {
        sc->factor = 1.0 / 60;
        snprintf(sc->unit, sizeof(sc->unit), "min");
        return;
    }
    if (strcmp(base_unit, "g") == 0 && max_abs >= 1e6) { /* CO2e: tonnes, not Mg */
        sc->factor = 1e-6;
        snprintf(sc->unit, sizeof(sc->unit), "t");
        return;
    }
    static const char *const prefixes[] = { "p", "n", "µ", "m", "", "k", "M", "G" };
    int i = 4; /* no prefix */
    while (i > 0 && max_abs * sc->factor < 1) {
        sc->factor *= 1000;
        i--;
    }
    while (i < 7 && max_abs * sc->factor >= 1000 && strcmp(base_unit, "s") != 0) {
        sc->factor /= 1000;
        i++;
    }
    snprintf(sc->unit, sizeof(sc->unit), "%s%s", prefixes[i], base_unit);
}

void report_fmt(char *buf, size_t size, double v, const struct report_scale *sc)
{
    if (!isfinite(v)) {
        snprintf(buf, size, "-");
        return;
    }
    char num[32];
    chart_fmt_num(num, sizeof(num), v * sc->factor);
    snprintf(buf, size, "%s%s%s", num, sc->unit[0] ? " " : "", sc->unit);
}

void report_fmt_auto(char *buf, size_t size, double v, const char *base_unit)
{
    struct report_scale sc;
    report_scale_pick(&sc, fabs(v), base_unit);
    report_fmt(buf, size, v, &sc);
}

void report_unit(char *buf, size_t size, const char *unit_name)
{
    const char *u = unit_name && unit_name[0] ? unit_name : "unit";
    size_t len = strlen(u);
    int plural = len > 3 && u[len - 1] == 's' && u[len - 2] != 's';
    snprintf(buf, size, "%.*s", (int)(plural ? len - 1 : len), u);
}

/* Readable on a phone (fluid width, tables scroll inside their box), printable (no
 * backgrounds needed, sections kept whole), and colours that carry no meaning alone. */
static const char style[] =
    ":root{color-scheme:light}"
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;"
    "color:#1a1a1a;background:#fff;line-height:1.45}"
    "main{max-width:62rem;margin:0 auto;padding:1rem}"
    "h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.2rem;margin:1.6rem 0 .4rem;"
    "border-bottom:1px solid #ccc}h3{font-size:1rem;margin:1rem 0 .3rem}"
    "code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em;"
    "overflow-wrap:anywhere}"
    ".meta{color:#444;font-size:.9rem}"
    ".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(11rem,1fr));gap:.6rem;"
    "margin:1rem 0}"
    ".card{border:1px solid #bbb;border-radius:.4rem;padding:.5rem .7rem}"
    ".card b{display:block;font-size:1.25rem}.card span{color:#444;font-size:.85rem}"
    ".tbl{overflow-x:auto}table{border-collapse:collapse;font-size:.88rem;margin:.4rem 0;"
    "min-width:100%}"
    "th,td{border-bottom:1px solid #ddd;padding:.25rem .5rem;text-align:left;"
    "vertical-align:top}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;"
    "white-space:nowrap}"
    ".badge{display:inline-block;border:1px solid;border-radius:.3rem;padding:0 .3rem;"
    "font-size:.8rem}.measured{color:#005a8c}.estimated{color:#8a4b00;border-style:dashed}"
    ".replayed{color:#5a3d7a;border-style:dotted}"
    ".note{color:#333;font-size:.9rem}.warn{border-left:4px solid #d55e00;padding-left:.6rem}"
    ".empty{border:1px dashed #999;padding:1rem;text-align:center;color:#444}"
    ".rec{font-weight:bold}figure{margin:1rem 0;overflow-x:auto}svg{max-width:100%;height:auto}"
    "figure svg{min-width:34rem}" /* on a phone a chart scrolls sideways, its text stays legible */
    "footer{color:#555;font-size:.8rem;margin-top:2rem;border-top:1px solid #ccc;"
    "padding-top:.5rem}"
    "@media print{main{max-width:none;padding:0}section,figure,table{break-inside:avoid}"
    ".tbl,figure{overflow:visible}figure svg{min-width:0}a{color:inherit}}";

void report_html_begin(FILE *f, const char *title)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta name=\"generator\" content=\"wattprof ",
          f);
    html_escape(f, wattprof_version());
    fputs("\">\n<title>", f);
    html_escape(f, title);
    /* no script may run and nothing may be fetched, whatever a label holds */
    fputs("</title>\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; img-src data:\">\n",
          f);
    fprintf(f, "<style>%s</style>\n</head>\n<body>\n<main>\n", style);
}

void report_lines(FILE *f, const char *text, const char *before, const char *after,
                  void (*esc)(FILE *f, const char *s))
{
    for (const char *p = text; p && *p;) {
        size_t len = strcspn(p, "\n");
        char *line = strndup(p, len);
        fputs(before, f);
        esc(f, line ? line : "");
        fputs(after, f);
        free(line);
        p += len + (p[len] == '\n');
    }
}

void report_html_note(FILE *f, const char *cls, const char *text)
{
    fprintf(f, "<p class=\"%s\">", cls);
    html_escape(f, text);
    fputs("</p>\n", f);
}

void report_html_end(FILE *f, const char *source)
{
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    if (!gmtime_r(&now, &tm) || strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm) == 0)
        snprintf(when, sizeof(when), "?");
    fputs("<footer><p><b>Provenance.</b> <span class=\"badge measured\">measured</span> read "
          "from an energy counter; <span class=\"badge estimated\">estimated</span> computed by "
          "a model from CPU time and the machine's description (docs/models.md in wattprof), "
          "drawn dashed; <i>integrated</i>: power readings integrated over time; "
          "<span class=\"badge replayed\">replayed</span> from a recorded trace, not measured "
          "during the run. CO2e and cost "
          "use the factors recorded with the run; their sources are listed beside them.</p>"
          "<p>Generated by wattprof ",
          f);
    html_escape(f, wattprof_version());
    fprintf(f, " on %s from ", when);
    html_escape(f, source);
    fputs(".</p></footer>\n</main>\n</body>\n</html>\n", f);
}
