//! The clock, the one effect `Timestamp` needs: kept here so that `study`
//! never reads it.

use crate::study::timestamp::Timestamp;

/// This machine's local clock, naive, as the CLI writes its own stamps.
pub fn now() -> Timestamp {
    Timestamp::Naive(chrono::Local::now().naive_local())
}

#[cfg(test)]
mod tests {
    #[test]
    fn now_is_naive_local_time_like_the_clis_stamps() {
        assert!(matches!(super::now(), crate::study::timestamp::Timestamp::Naive(_)));
    }
}
