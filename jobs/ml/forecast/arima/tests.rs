//! Unit tests: kernels, optimiser and tests of differencing against values statsforecast
//! 2.1.1, scipy 1.17.1 and statsmodels 0.15.0 print for the same inputs; the public API on
//! small cases.

use super::bfgs::minimize;
use super::estimate::root_inside;
use super::kalman::StateSpace;
use super::kernels::{arima_css, get_q0, gradtrans, invtrans, transpar, Arma};
use super::unitroot::{kpss_stat, ndiffs, nsdiffs, pairwise_sum, seasonal_strength};
use super::*;

fn close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= tol * w.abs().max(1e-300), "{got:?}\nvs\n{want:?}");
    }
}

fn arma(p: usize, q: usize, sp: usize, sq: usize, m: usize, d: usize, sd: usize) -> Arma {
    Arma { p, q, sp, sq, m, d, sd }
}

const AIR: [f64; 144] = [
    112., 118., 132., 129., 121., 135., 148., 148., 136., 119., 104., 118., 115., 126., 141., 135., 125., 149., 170., 170., 158., 133., 114., 140., 145., 150.,
    178., 163., 172., 178., 199., 199., 184., 162., 146., 166., 171., 180., 193., 181., 183., 218., 230., 242., 209., 191., 172., 194., 196., 196., 236., 235.,
    229., 243., 264., 272., 237., 211., 180., 201., 204., 188., 235., 227., 234., 264., 302., 293., 259., 229., 203., 229., 242., 233., 267., 269., 270., 315.,
    364., 347., 312., 274., 237., 278., 284., 277., 317., 313., 318., 374., 413., 405., 355., 306., 271., 306., 315., 301., 356., 348., 355., 422., 465., 467.,
    404., 347., 305., 336., 340., 318., 362., 348., 363., 435., 491., 505., 404., 359., 310., 337., 360., 342., 406., 396., 420., 472., 548., 559., 463., 407.,
    362., 405., 417., 391., 419., 461., 472., 535., 622., 606., 508., 461., 390., 432.,
];

/// Trend, a fixed monthly pattern and a deterministic wobble (n = 96).
fn synthetic() -> Vec<f64> {
    let pat = [3., -2., 5., 0., 7., -4., 1., 6., -1., 2., -6., 4.];
    (0..96).map(|t| 50.0 + 0.3 * t as f64 + pat[t % 12] + (((t * 37) % 11) as f64 - 5.0) * 0.7).collect()
}

#[test]
fn initial_covariance_is_gardners() {
    close(&get_q0(&[0.5, -0.3], &[0.4]), &[1.892857142857143, 0.0892857142857143, 0.0892857142857143, 0.3303571428571429], 1e-14);
    let want = [
        5.838947368421055,
        -0.016999999999999987,
        -0.23,
        -0.3,
        -0.016999999999999987,
        0.14000000000000012,
        -0.009999999999999974,
        -0.06,
        -0.23,
        -0.009999999999999974,
        0.10000000000000006,
        -0.029999999999999985,
        -0.3,
        -0.06,
        -0.029999999999999985,
        0.09000000000000002,
    ];
    close(&get_q0(&[0.9], &[0.2, 0.1, -0.3]), &want, 1e-12);
    close(&get_q0(&[], &[0.6, 0.2]), &[1.4, 0.72, 0.2, 0.72, 0.4, 0.12, 0.2, 0.12, 0.04000000000000001], 1e-14);
}

#[test]
fn parameters_transform_as_statsforecast() {
    let a = arma(2, 1, 1, 0, 4, 0, 0);
    let par = [0.3, -1.2, 0.7, 0.5];
    let (phi, theta) = transpar(&par, &a, true);
    close(&phi, &[0.5341667139026062, -0.8336546070121552, 0.0, 0.46211715726000974, -0.24684760333159328, 0.38524609712916774], 1e-14);
    close(&theta, &[0.7], 0.0);
    let (phi, _) = transpar(&par, &a, false);
    close(&phi, &[0.3, -1.2, 0.0, 0.5, -0.15, 0.6], 1e-15);
    close(&invtrans(&[0.5, -0.3, 0.7, 0.4], &a), &[0.40546510810816433, -0.30951960420311175, 0.7, 0.42364893019360184], 1e-14);
    let g = gradtrans(&par, &a);
    let want = [1.6775558537370783, 0.0, 0.0, 0.0, -0.0889302794387925, 0.3052743878489972, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.7860842079384089];
    close(&g, &want, 1e-12);
}

#[test]
fn css_likelihood_and_forecast_match_statsforecast() {
    // USAccDeaths, first 30 months; ARIMA(1,1,1) with ar 0.4, ma -0.5.
    let y = [
        9007., 8106., 8928., 9137., 10017., 10826., 11317., 10744., 9713., 9938., 9161., 8927., 7750., 6981., 8038., 8422., 8714., 9512., 10120., 9823., 8743.,
        9129., 8710., 8680., 8162., 7306., 8124., 7870., 9387., 9556.,
    ];
    let a = arma(1, 1, 0, 0, 12, 1, 0);
    let (phi, theta) = transpar(&[0.4, -0.5], &a, false);
    let (res, resid) = arima_css(&y, &a, &phi, &theta).unwrap();
    close(&[res, resid[5], resid[29]], &[581384.8812397451, 973.05, 313.6976805597543], 1e-13);
    let mut ss = StateSpace::new(&phi, &theta, &[1.0]);
    let (ssq, sumlog, nu, rs) = ss.filter(&y, true);
    close(&[ssq, sumlog, rs[3]], &[15734112.95609632, 0.01574834501334253, 247.628515494477], 1e-12);
    assert_eq!(nu, 29);
    close(&ss.a, &[168.99999999999977, -156.8488386081617, 9387.0], 1e-12);
    let (mean, var) = ss.forecast(3);
    close(&mean, &[9466.751161391838, 9431.051625948574, 9416.771811771268], 1e-13);
    close(&var, &[1.0, 1.81, 2.5496000000000003], 1e-13);
}

#[test]
fn bfgs_follows_scipy() {
    let rosen = |x: &[f64]| 100.0 * (x[1] - x[0] * x[0]).powi(2) + (1.0 - x[0]).powi(2);
    let r = minimize(rosen, &[-1.2, 1.0]);
    assert_eq!(r.status, 0);
    close(&r.x, &[0.9999955222388851, 0.9999910370467212], 1e-10);
    close(&[r.fun], &[2.0055896490142818e-11], 1e-4);
    close(&r.hess_inv, &[0.49754995605669583, 0.9953762727292434, 0.995376272729247, 1.9962730193480946], 1e-6);
    // A quadratic: the finite-difference noise ends it by a failed line search (status 2).
    let quad = |x: &[f64]| (x[0] - 3.0).powi(2) + 10.0 * (x[1] + 1.0).powi(2) + x[0] * x[1];
    let r = minimize(quad, &[0.0, 0.0]);
    assert_eq!(r.status, 2);
    close(&r.x, &[3.58974359201831, -1.1794871870436834], 1e-9);
    close(&[r.fun], &[-3.564102564102564], 1e-14);
}

#[test]
fn differencing_tests_match_statsmodels() {
    let y = synthetic();
    close(&[kpss_stat(&y).unwrap()], &[3.1857745754494524], 1e-13);
    let d: Vec<f64> = y.windows(2).skip(1).map(|w| w[1] - w[0]).collect();
    close(&[kpss_stat(&d).unwrap()], &[0.020646659137787127], 1e-12);
    close(&[seasonal_strength(&y, 12), seasonal_strength(&y, 4)], &[0.771785822396763, 0.22494115011249272], 1e-12);
    assert_eq!((nsdiffs(&y, 12), ndiffs(&y, 2)), (1, 1));
    assert_eq!(kpss_stat(&[]), None);
    assert_eq!(pairwise_sum(&(1..=200).map(f64::from).collect::<Vec<_>>()), 20100.0);
}

#[test]
fn root_check_uses_a_1_01_radius() {
    assert!(root_inside(&[0.995]));
    assert!(!root_inside(&[0.5]));
    // A seasonal AR of 0.9 at lag 12 has roots of modulus 0.9^(-1/12) = 1.0088.
    let mut sar = vec![0.0; 12];
    sar[11] = 0.9;
    assert!(root_inside(&sar));
    sar[11] = 0.85;
    assert!(!root_inside(&sar));
    assert!(root_inside(&[0.5, f64::NAN]));
    // statsforecast never checks a polynomial whose only non-zero coefficient is the first.
    assert!(!search::roots_rejected(&[-1.0, 0.0]));
    assert!(search::roots_rejected(&[-1.1284, 0.1284]));
}

#[test]
fn auto_arima_matches_statsforecast_on_air_passengers() {
    let fit = auto_arima(&AIR, 12, &ArimaOptions::default()).unwrap();
    assert_eq!(fit.spec(), "ARIMA(1,1,0)(0,1,0)[12]");
    let (mean, var) = fit.forecast(3);
    close(&mean, &[444.3095753949392, 418.21373846978736, 446.2434072237411], 1e-12);
    close(&[fit.loglik, fit.sigma2], &[-508.1971857819979, 138.07036741383484], 1e-12);
    assert!(var[0] > 0.0 && var[1] > var[0]);
    let quick = auto_arima(&AIR, 12, &ArimaOptions { quick: true, ..ArimaOptions::default() }).unwrap();
    assert_eq!((quick.spec(), quick.forecast(3)), (fit.spec(), (mean, var)));
}

#[test]
fn auto_arima_matches_statsforecast_with_drift() {
    let pat = [3., -2., 5., 0.];
    let y: Vec<f64> = (0..48).map(|t| 50.0 + 0.3 * t as f64 + pat[t % 4] + (((t * 37) % 11) as f64 - 5.0) * 0.7).collect();
    let fit = auto_arima(&y, 4, &ArimaOptions::default()).unwrap();
    assert_eq!(fit.spec(), "ARIMA(0,0,0)(1,1,0)[4] with drift");
    close(&[fit.loglik, fit.aicc], &[-99.43620375761154, 205.47240751522307], 1e-12);
    close(&fit.forecast(3).0, &[67.39999999640689, 65.49999999640688, 69.23913036577223], 1e-12);
}

#[test]
fn specs_round_trip() {
    for s in ["ARIMA(1,1,0)(0,1,0)[12]", "ARIMA(2,0,2) with mean", "ARIMA(0,1,1) with drift", "ARIMA(1,0,0)(0,1,1)[12] with drift", "ARIMA(0,0,0)"] {
        let (o, m, c) = parse_spec(s).unwrap();
        let fit = fit_order(&AIR, m.unwrap_or(1), o, c, &ArimaOptions::default()).unwrap();
        assert_eq!(fit.spec(), s);
    }
    for bad in ["ARIMA(1,1)", "ETS(A,N,N)", "ARIMA(1,1,0) with zero", "ARIMA(1,1,0)(0,1,0)", "ARIMA(a,1,0)"] {
        assert!(parse_spec(bad).is_none(), "{bad}");
    }
}

#[test]
fn odd_input_is_an_error_or_a_plain_forecast() {
    let opts = ArimaOptions::default();
    assert!(auto_arima(&[], 12, &opts).is_err());
    assert!(auto_arima(&[1.0, f64::NAN, 3.0], 1, &opts).is_err());
    assert!(auto_arima(&[1.0, f64::INFINITY], 1, &opts).is_err());
    let fit = auto_arima(&[4.0; 30], 12, &opts).unwrap();
    assert_eq!(fit.forecast(3), (vec![4.0; 3], vec![0.0; 3]));
    assert_eq!(fit.spec(), "ARIMA(0,0,0) with mean");
    // A straight line: one difference leaves a constant, fitted as a fixed drift.
    let line: Vec<f64> = (0..20).map(|t| 3.0 + 2.0 * t as f64).collect();
    let fit = auto_arima(&line, 1, &opts).unwrap();
    assert_eq!(fit.spec(), "ARIMA(0,1,0) with drift");
    close(&fit.forecast(2).0, &[43.0, 45.0], 1e-12);
    for n in 1..12 {
        let y: Vec<f64> = (0..n).map(|t| ((t * 7) % 5) as f64).collect();
        if let Ok(f) = auto_arima(&y, 4, &opts) {
            assert!(f.forecast(4).0.iter().all(|v| v.is_finite()), "n={n}");
        }
    }
    let o = Order { sp: 1, sd: 1, ..Order::default() };
    assert!(fit_order(&AIR, 1, o, false, &opts).is_err());
    assert!(fit_order(&AIR, 52, o, false, &ArimaOptions { season: 24, ..opts }).is_err());
    assert!(fit_order(&AIR[..10], 12, o, false, &opts).is_err());
}

#[test]
fn the_model_refits_its_hint_and_skips_long_seasons() {
    use super::super::Grain;
    let cal = |grain| Calendar::new(grain, chrono::NaiveDate::from_ymd_opt(2020, 1, 6).unwrap());
    let model = Arima;
    assert_eq!(model.name(), "arima");
    let hinted = model.fit_predict(&AIR, &cal(Grain::Month), 5, Some("ARIMA(0,1,1)(0,1,1)[12]")).unwrap();
    assert_eq!(hinted.spec, "ARIMA(0,1,1)(0,1,1)[12]");
    assert_eq!(hinted.point.len(), 5);
    let searched = model.fit_predict(&AIR[..48], &cal(Grain::Month), 2, Some("not a spec")).unwrap();
    // The Model's search compares orders by CSS (statsforecast's exact search: (1,1,0)(1,1,0)).
    assert_eq!(searched.spec, "ARIMA(2,1,1)(1,1,0)[12]");
    assert_eq!(searched.spec, auto_arima(&AIR[..48], 12, &ArimaOptions::for_model()).unwrap().spec());
    let weekly = model.fit_predict(&AIR[..60], &cal(Grain::Week), 3, None).unwrap();
    assert!(!weekly.spec.contains('['), "{}", weekly.spec);
}

#[test]
fn later_backtest_windows_run_the_first_windows_model() {
    use super::super::Grain;
    let cal = Calendar::new(Grain::Month, chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap());
    let opts = ArimaOptions::for_backtest();
    let (fits, spec) = Arima.backtest(&AIR, &cal, &[108, 120, 132], 12).unwrap();
    let first = auto_arima(&AIR[..108], 12, &opts).unwrap();
    assert_eq!((fits.len(), spec.clone()), (3, first.spec()));
    assert_eq!(fits[0].point, first.forecast(12).0);
    // The same coefficients over 12 more months: the forecast from there, not a new fit.
    let later = first.refilter(&AIR[..120], &opts).unwrap();
    assert_eq!(later.coef, first.coef);
    assert_eq!(fits[1].point, later.forecast(12).0);
    assert_ne!(fits[1].point, fits[0].point);
    assert!(fits.iter().all(|f| f.spec == spec));
    // Over its own history the model is itself.
    close(&first.refilter(&AIR[..108], &opts).unwrap().forecast(12).0, &first.forecast(12).0, 1e-9);
    assert!(first.refilter(&[f64::NAN; 20], &opts).is_err());
}
