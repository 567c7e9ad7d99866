//! Interning of name lists: equal lists share one value (a shape), built once with its name -> position index.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

type Hasher = foldhash::fast::RandomState;

/// Name -> position in a name list.
pub type NameIndex = HashMap<&'static str, u32, Hasher>;

/// The position of every name of `names` (a later duplicate wins, as a map built in order).
pub fn name_index(names: impl IntoIterator<Item = &'static str>) -> NameIndex {
    names
        .into_iter()
        .enumerate()
        .map(|(i, n)| (n, i as u32))
        .collect()
}

/// Lists of `K` -> the one shared `V` made from that list: memory grows with the distinct
/// lists, not with how many holders (dumps, benchmarks x repeats) share each.
pub struct Interner<K, V>(HashMap<Box<[K]>, Arc<V>, Hasher>);

impl<K, V> Default for Interner<K, V> {
    fn default() -> Self {
        Interner(HashMap::default())
    }
}

impl<K: Eq + Hash, V> Interner<K, V> {
    /// The shared value of `list`, made by `make` the first time the list is seen.
    pub fn get_or_make(&mut self, list: Box<[K]>, make: impl FnOnce(&[K]) -> V) -> Arc<V> {
        if let Some(v) = self.0.get(&list[..]) {
            return v.clone();
        }
        let v = Arc::new(make(&list));
        self.0.insert(list, v.clone());
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_lists_share_one_value() {
        let mut i: Interner<&'static str, NameIndex> = Interner::default();
        let a = i.get_or_make(Box::new(["x", "y"]), |l| name_index(l.iter().copied()));
        let b = i.get_or_make(Box::new(["x", "y"]), |_| unreachable!("made once"));
        let c = i.get_or_make(Box::new(["y"]), |l| name_index(l.iter().copied()));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(a.get("y"), Some(&1));
        assert_eq!(c.get("y"), Some(&0));
    }
}
