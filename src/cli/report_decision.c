/* The arithmetic of the decision summary (docs/report.md): the saving per task of the
 * recommended candidate against the baseline, scaled to a year of tasks, and the payback
 * of an investment. Pure. */
#include <math.h>

#include "report.h"

#define J_PER_KWH 3.6e6

void report_decide(const struct report_decision_in *in, struct report_decision *out)
{
    double nan = NAN;
    out->saving = in->base_energy_j > 0 ? 1 - in->rec_energy_j / in->base_energy_j : nan;
    /* a higher ratio is a smaller saving: the bounds swap */
    out->saving_low = 1 - in->ratio_high;
    out->saving_high = 1 - in->ratio_low;
    double pue = isfinite(in->pue) && in->pue >= 1 ? in->pue : 1;
    double n = in->tasks_per_year;
    double per_task_kwh = (in->base_energy_j - in->rec_energy_j) * pue / J_PER_KWH;
    out->kwh_per_year = isfinite(n) ? per_task_kwh * n : nan;
    out->kwh_low = isfinite(n) ? in->base_energy_j * out->saving_low * pue / J_PER_KWH * n : nan;
    out->kwh_high = isfinite(n) ? in->base_energy_j * out->saving_high * pue / J_PER_KWH * n : nan;
    out->co2e_kg_per_year = isfinite(n) ? (in->base_co2e_g - in->rec_co2e_g) * n / 1000 : nan;
    out->energy_cost_per_year = out->kwh_per_year * in->price_per_kwh; /* NAN propagates */
    double other = isfinite(in->other_savings) ? in->other_savings : 0;
    if (isfinite(out->energy_cost_per_year))
        out->total_savings_per_year = out->energy_cost_per_year + other;
    else
        out->total_savings_per_year = isfinite(in->other_savings) ? other : nan;
    if (!isfinite(in->investment) || !isfinite(out->total_savings_per_year))
        out->payback_years = nan;
    else if (out->total_savings_per_year <= 0)
        out->payback_years = INFINITY; /* never pays back */
    else
        out->payback_years = in->investment / out->total_savings_per_year;
}
