//! Who may open a console page, checked before its handler runs: the request's session
//! (signed out: to the sign-in form); for a form that changes something, the form and
//! the session's token in it (403, nothing done); then the permission the page needs
//! (403).

use std::any::type_name;
use std::marker::PhantomData;

use actix_web::{dev, web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::error::ConsoleError;
use super::form::{self, Form};
use super::session::{self, ConsoleConfig, Session};
use crate::api::AppState;
use crate::auth::Permission;
use crate::store::{DbPool, StoreError, WriteScope};

/// What a page asks of its user, as a type, so that its extractor checks it.
pub trait Need {
    /// The permission the user must hold; `None`: being signed in is enough.
    const REQUIRED: Option<Permission>;
}

/// A permission a page needs; a write made on that page is made with it.
pub trait Permitted {
    const PERMISSION: Permission;
}

impl<P: Permitted> Need for P {
    const REQUIRED: Option<Permission> = Some(P::PERMISSION);
}

/// Any signed-in user.
pub enum Anyone {}

impl Need for Anyone {
    const REQUIRED: Option<Permission> = None;
}

macro_rules! permissions {
    ($($name:ident),+) => {
        $(
            #[doc = concat!("A user holding `", stringify!($name), "`.")]
            pub enum $name {}

            impl Permitted for $name {
                const PERMISSION: Permission = Permission::$name;
            }
        )+
    };
}

permissions!(ProfileRead, ProfileCreate, ProfileUpdate, ProfileDelete, AuditRead, TenantAdmin);

/// Application data the console is mounted with; its absence is a start-up mistake.
pub fn data<T: 'static>(req: &HttpRequest) -> Result<web::Data<T>, ConsoleError> {
    req.app_data::<web::Data<T>>()
        .cloned()
        .ok_or_else(|| ConsoleError::Store(StoreError::Internal(format!("no {} is configured", type_name::<T>()))))
}

fn require<N: Need>(session: &Session) -> Result<(), ConsoleError> {
    N::REQUIRED.map_or(Ok(()), |permission| session.require(permission))
}

/// The request's session, still valid, whose user holds what `N` needs.
pub async fn signed_in<N: Need>(req: &HttpRequest) -> Result<Session, ConsoleError> {
    let (state, config) = (data::<AppState>(req)?, data::<ConsoleConfig>(req)?);
    let session = session::current(req, &state, &config).await?;
    require::<N>(&session)?;
    Ok(session)
}

/// The request's session and its form, which must carry the session's token, then the
/// permission `N` needs: how every console form that changes something is read.
pub async fn signed_form<N: Need>(req: &HttpRequest, payload: dev::Payload) -> Result<(Session, Form), ConsoleError> {
    let (state, config) = (data::<AppState>(req)?, data::<ConsoleConfig>(req)?);
    let session = session::current(req, &state, &config).await?;
    let form = form::read(req, payload, &state).await?;
    session.check_form_token(form.token())?;
    require::<N>(&session)?;
    Ok((session, form))
}

/// The scope of a write by `session`'s user with the permission `P`.
pub fn write_scope<P: Permitted>(pool: &DbPool, session: &Session) -> WriteScope {
    pool.write_scope(session.tenant_id, session.authority(P::PERMISSION))
}

/// A page for a signed-in user holding what `N` needs.
pub struct Signed<N: Need> {
    pub session: Session,
    need: PhantomData<N>,
}

impl<N: Need + 'static> FromRequest for Signed<N> {
    type Error = ConsoleError;
    type Future = LocalBoxFuture<'static, Result<Self, ConsoleError>>;

    fn from_request(req: &HttpRequest, _: &mut dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(Signed { session: signed_in::<N>(&req).await?, need: PhantomData }) })
    }
}

/// A form that changes something, sent from a page of the session of a user holding
/// what `N` needs.
pub struct SignedForm<N: Need> {
    pub session: Session,
    pub form: Form,
    need: PhantomData<N>,
}

impl<P: Permitted> SignedForm<P> {
    pub fn scope(&self, pool: &DbPool) -> WriteScope {
        write_scope::<P>(pool, &self.session)
    }
}

impl<N: Need + 'static> FromRequest for SignedForm<N> {
    type Error = ConsoleError;
    type Future = LocalBoxFuture<'static, Result<Self, ConsoleError>>;

    fn from_request(req: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        let (req, payload) = (req.clone(), payload.take());
        Box::pin(async move {
            let (session, form) = signed_form::<N>(&req, payload).await?;
            Ok(SignedForm { session, form, need: PhantomData })
        })
    }
}
