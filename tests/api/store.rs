//! The store's write transaction: transient conflicts are retried, a bounded number of times.

use std::cell::Cell;

use spcm::store::{write_transaction, Authority, StoreError};

use crate::helpers::backend_tests;

backend_tests! {
    async fn transient_conflicts_are_retried_a_bounded_number_of_times(app) {
        let mut conn = app.pool.get().unwrap();
        let scope = app.pool.write_scope(1, Authority::Cli);
        let tries = Cell::new(0);
        let result: Result<&str, StoreError> = write_transaction(&mut conn, &scope, |_| {
            tries.set(tries.get() + 1);
            if tries.get() < 3 { Err(StoreError::Transient("deadlock detected".into())) } else { Ok("done") }
        });
        assert_eq!(result.unwrap(), "done");
        assert_eq!(tries.get(), 3);

        tries.set(0);
        let result: Result<(), StoreError> = write_transaction(&mut conn, &scope, |_| {
            tries.set(tries.get() + 1);
            Err(StoreError::Transient("deadlock detected".into()))
        });
        assert!(matches!(result, Err(StoreError::Transient(_))));
        assert_eq!(tries.get(), 4, "gives up after four tries");

        tries.set(0);
        let result: Result<(), StoreError> = write_transaction(&mut conn, &scope, |_| {
            tries.set(tries.get() + 1);
            Err(StoreError::UniqueViolation("x".into()))
        });
        assert!(matches!(result, Err(StoreError::UniqueViolation(_))), "{result:?}");
        assert_eq!(tries.get(), 1, "other errors are not retried");
    }
}
