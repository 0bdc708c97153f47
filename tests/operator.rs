//! Tests of the example operator (`examples/operator.rs`) written with the runtime harness.
#![cfg(feature = "controllers")]
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code, missing_docs)]

#[path = "../examples/operator.rs"]
mod operator;

use std::time::Duration;

use kybern::core::api::apps::v1::Deployment;
use kybern::core::conditions;
use kybern::reconciler::Api;
use operator::{FINALIZER, Website};

const T: Duration = Duration::from_secs(60);

#[tokio::test(start_paused = true)]
async fn website_gets_a_deployment_a_finalizer_and_ready() {
    let (h, ctx) = operator::start();
    h.apply_yaml("apiVersion: example.com/v1\nkind: Website\nmetadata: {name: shop}\nspec: {replicas: 3, image: \"nginx:1\"}\n")
        .await
        .unwrap();
    h.wait_for::<Website>("shop Ready", T, |r| {
        r.get_named(Some("default"), "shop").is_some_and(|w| {
            w.metadata.finalizers == vec![FINALIZER.to_string()]
                && w.status.as_ref().is_some_and(|s| {
                    conditions::is_true(&s.conditions, "Ready")
                        && s.ready_replicas == 3
                        && s.conditions[0].observed_generation == w.metadata.generation
                })
        })
    })
    .await
    .unwrap();
    let d = h.api_in::<Deployment>("default").get("shop").await.unwrap();
    assert_eq!(
        d.metadata.controller_ref().map(|r| r.kind.as_str()),
        Some("Website")
    );
    // A spec change flows into the Deployment.
    h.apply_yaml("apiVersion: example.com/v1\nkind: Website\nmetadata: {name: shop}\nspec: {replicas: 1, image: \"nginx:1\"}\n")
        .await
        .unwrap();
    h.wait_for::<Deployment>("deployment scaled to 1", T, |r| {
        r.get_named(Some("default"), "shop")
            .and_then(|d| d.spec.clone())
            .and_then(|s| s.replicas)
            == Some(1)
    })
    .await
    .unwrap();
    assert!(
        ctx.log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("finalizer added"))
    );
    h.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn deleting_a_website_runs_cleanup_and_collects_children() {
    let (h, ctx) = operator::start();
    h.apply_yaml("apiVersion: example.com/v1\nkind: Website\nmetadata: {name: blog}\nspec: {replicas: 2, image: \"nginx:1\"}\n")
        .await
        .unwrap();
    h.wait_for::<Deployment>("deployment exists", T, |r| r.len() == 1)
        .await
        .unwrap();
    let sites: Api<Website> = h.api_in("default");
    sites.delete("blog", &Default::default()).await.unwrap();
    h.wait_until("website and deployment gone", T, || {
        h.reader::<Website>().is_empty() && h.reader::<Deployment>().is_empty()
    })
    .await
    .unwrap();
    assert!(
        ctx.log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("cleanup ran"))
    );
    h.shutdown().await;
}

#[test]
fn crd_is_structural() {
    use kybern::core::CustomResourceExt as _;
    let crd = Website::crd();
    assert_eq!(crd.metadata.name.as_deref(), Some("websites.example.com"));
    assert_eq!(crd.spec.names.short_names, vec!["ws".to_string()]);
}
