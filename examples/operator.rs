//! An operator with a custom resource, end to end: a `Website` kind (group `example.com`)
//! whose controller runs a Deployment for it, reports a `Ready` condition, and cleans up
//! through a finalizer when the Website is deleted — all on an in-process control plane
//! (the test harness) with virtual time, so it runs in milliseconds.
//!
//! Run it with `cargo run --example operator --features controllers`. It prints:
//!
//! ```text
//! CRD websites.example.com (Namespaced, v1)
//! applied Website "blog" (replicas 2, image nginx:1.27)
//! finalizer added: example.com/cleanup
//! Deployment "blog" created, owned by Website "blog"
//! Website "blog" is Ready: 2/2 replicas ready
//! deleting Website "blog": cleanup ran, finalizer removed
//! Website, Deployment, ReplicaSet and pods are gone
//! ```

use std::sync::Arc;
use std::time::Duration;

use kybern::controllers;
use kybern::core::api::apps::v1::{Deployment, DeploymentSpec};
use kybern::core::api::core::v1::{Container, PodSpec, PodTemplateSpec};
use kybern::core::api::meta::v1::{Condition, LabelSelector};
use kybern::core::{
    CustomResourceExt, Resource, Time, conditions, custom_resource, owner_reference,
};
use kybern::reconciler::runtime::controller::Action;
use kybern::reconciler::runtime::finalizer::{self, finalizer};
use kybern::reconciler::runtime::harness::Harness;
use kybern::reconciler::{Api, StoreError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What the user asks for: how many web servers, running which image.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WebsiteSpec {
    /// Number of web server pods.
    pub replicas: i32,
    /// Container image.
    pub image: String,
}

/// What the operator observed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebsiteStatus {
    /// Pods ready.
    #[serde(default)]
    pub ready_replicas: i32,
    /// `Ready` and friends.
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

custom_resource! {
    /// A website served by a Deployment.
    #[resource(group = "example.com", version = "v1", kind = "Website", plural = "websites", scope = Namespaced, short_names = ["ws"])]
    pub struct Website {
        spec: WebsiteSpec,
        status: WebsiteStatus,
    }
}

/// The operator's finalizer.
pub const FINALIZER: &str = "example.com/cleanup";

/// What the operator's reconcile fails with.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    /// A store call failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The Website was never stored.
    #[error(transparent)]
    Owner(#[from] kybern::core::OwnerError),
}

/// What the reconcile needs.
pub struct Ctx {
    /// The control plane.
    pub harness: Arc<Harness>,
    /// Narration lines, printed by `main` and checked by the tests.
    pub log: std::sync::Mutex<Vec<String>>,
}

impl Ctx {
    fn say(&self, line: String) {
        self.log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(line);
    }
}

fn deployment_for(site: &Website) -> Result<Deployment, OperatorError> {
    let labels =
        std::collections::BTreeMap::from([("website".to_string(), site.name().to_string())]);
    let mut d = Deployment::default();
    d.metadata.name = Some(site.name().to_string());
    d.metadata.namespace = site.namespace().map(str::to_owned);
    d.metadata.owner_references = vec![owner_reference(site, &(), true, true)?];
    d.spec = Some(DeploymentSpec {
        replicas: Some(site.spec.replicas),
        selector: LabelSelector {
            match_labels: labels.clone(),
            ..LabelSelector::default()
        },
        template: PodTemplateSpec {
            metadata: Some(kybern::core::api::meta::v1::ObjectMeta {
                labels: labels.into(),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "web".into(),
                    image: Some(site.spec.image.clone()),
                    ..Container::default()
                }],
                ..PodSpec::default()
            }),
        },
        ..DeploymentSpec::default()
    });
    Ok(d)
}

async fn apply(site: Arc<Website>, ctx: &Ctx) -> Result<Action, OperatorError> {
    let ns = site.namespace().unwrap_or("default");
    let deployments: Api<Deployment> = ctx.harness.api_in(ns);
    let want = deployment_for(&site)?;
    let current = match deployments.get_opt(site.name()).await? {
        None => {
            let d = deployments.create(&want).await?;
            ctx.say(format!(
                "Deployment \"{}\" created, owned by Website \"{}\"",
                d.name(),
                site.name()
            ));
            d
        }
        Some(mut d)
            if d.spec.as_ref().map(|s| (&s.replicas, &s.template))
                != want.spec.as_ref().map(|s| (&s.replicas, &s.template)) =>
        {
            d.spec = want.spec.clone();
            deployments.update(&d).await?
        }
        Some(d) => d,
    };
    let ready = current
        .status
        .as_ref()
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0);
    let mut status = site.status.clone().unwrap_or_default();
    status.ready_replicas = ready;
    let is_ready = ready >= site.spec.replicas;
    conditions::set(
        &mut status.conditions,
        Condition {
            type_: "Ready".into(),
            status: if is_ready { "True" } else { "False" }.into(),
            reason: if is_ready {
                "DeploymentReady"
            } else {
                "DeploymentProgressing"
            }
            .into(),
            message: format!("{ready}/{} replicas ready", site.spec.replicas),
            observed_generation: site.metadata.generation,
            last_transition_time: None,
        },
        Time(ctx.harness.clock().wall()),
    );
    if site.status.as_ref() != Some(&status) {
        let mut updated = (*site).clone();
        updated.status = Some(status);
        let websites: Api<Website> = ctx.harness.api_in(ns);
        websites.update_status(&updated).await?;
        if is_ready {
            ctx.say(format!(
                "Website \"{}\" is Ready: {ready}/{} replicas ready",
                site.name(),
                site.spec.replicas
            ));
        }
    }
    Ok(Action::requeue(Duration::from_secs(300)))
}

/// The operator's reconcile: everything goes through the finalizer helper.
pub async fn reconcile(
    site: Arc<Website>,
    ctx: Arc<Ctx>,
) -> Result<Action, finalizer::Error<OperatorError>> {
    let ns = site.namespace().unwrap_or("default").to_owned();
    let websites: Api<Website> = ctx.harness.api_in(&ns);
    let had_finalizer = site.metadata.has_finalizer(FINALIZER);
    let ctx2 = Arc::clone(&ctx);
    let result = finalizer(&websites, FINALIZER, site, |event| async move {
        match event {
            finalizer::Event::Apply(site) => apply(site, &ctx2).await,
            finalizer::Event::Cleanup(site) => {
                // Owner references make the garbage collector delete the Deployment; a real
                // operator would release external resources here.
                ctx2.say(format!(
                    "deleting Website \"{}\": cleanup ran, finalizer removed",
                    site.name()
                ));
                Ok(Action::await_change())
            }
        }
    })
    .await;
    if !had_finalizer && result.is_ok() {
        ctx.say(format!("finalizer added: {FINALIZER}"));
    }
    result
}

/// Starts a control plane with the built-in controllers and the Website operator.
pub fn start() -> (Arc<Harness>, Arc<Ctx>) {
    let mut harness = Harness::new();
    harness.registry_mut().register::<Website>();
    let harness = Arc::new(harness);
    let mut gc = controllers::gc::GcConfig::default().with_resource(Website::api_resource(&()));
    gc.registry.register::<Website>();
    let m = controllers::manager_for(&harness);
    harness.spawn(async move {
        futures::join!(
            controllers::replicaset::run(m.clone()),
            controllers::deployment::run(m.clone()),
            controllers::gc::run(m.clone(), gc),
        );
    });
    harness.start_fake_kubelet(Duration::from_secs(2));
    let ctx = Arc::new(Ctx {
        harness: Arc::clone(&harness),
        log: std::sync::Mutex::new(Vec::new()),
    });
    let controller = harness
        .controller::<Website>()
        .owns(harness.api::<Deployment>(), Default::default());
    let c = Arc::clone(&ctx);
    harness.spawn(async move {
        controller
            .run(reconcile, |_, _, _| Action::requeue_with_backoff(), c)
            .await;
    });
    (harness, ctx)
}

#[tokio::main(flavor = "current_thread", start_paused = true)]
async fn main() -> anyhow::Result<()> {
    let crd = Website::crd();
    println!(
        "CRD {} ({}, {})",
        crd.metadata.name.as_deref().unwrap_or(""),
        crd.spec.scope,
        crd.spec
            .versions
            .first()
            .map(|v| v.name.as_str())
            .unwrap_or("")
    );
    let (h, ctx) = start();
    h.apply_yaml("apiVersion: example.com/v1\nkind: Website\nmetadata: {name: blog}\nspec: {replicas: 2, image: \"nginx:1.27\"}\n")
        .await?;
    println!("applied Website \"blog\" (replicas 2, image nginx:1.27)");
    h.wait_for::<Website>("blog is Ready", Duration::from_secs(60), |r| {
        r.get_named(Some("default"), "blog").is_some_and(|w| {
            w.status
                .as_ref()
                .is_some_and(|s| conditions::is_true(&s.conditions, "Ready"))
        })
    })
    .await?;
    h.api_in::<Website>("default")
        .delete("blog", &Default::default())
        .await?;
    h.wait_until("everything is gone", Duration::from_secs(60), || {
        h.reader::<Website>().is_empty()
            && h.reader::<Deployment>().is_empty()
            && h.reader::<kybern::core::api::apps::v1::ReplicaSet>()
                .is_empty()
            && h.reader::<kybern::core::api::core::v1::Pod>().is_empty()
    })
    .await?;
    for line in ctx
        .log
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
    {
        println!("{line}");
    }
    println!("Website, Deployment, ReplicaSet and pods are gone");
    h.shutdown().await;
    Ok(())
}
