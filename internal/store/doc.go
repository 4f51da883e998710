// Package store keeps the engine's metadata — images, containers, volumes,
// networks, pods and the names that point at them — in one bbolt file,
// /var/lib/berth/berth.db, changed only in transactions.
//
// # One file, opened per transaction
//
// Every berth command is a short process and many run at once (twenty
// `berth run -d`, a long `berth pull` beside `berth images`). bbolt locks the
// whole file while it is open for writing, so a DB does not keep it open:
// each View or Update takes the transaction lock (a flock on berth.db.lock,
// shared for View, exclusive for Update, waited for up to Options.Timeout,
// then ErrUnavailable; see lock.go for why not bbolt's own), opens the file,
// runs one transaction and closes it. A pull therefore holds the lock only
// for the milliseconds of the transactions that record what it fetched,
// never while it downloads. Opening and closing costs some 30–50 µs per
// transaction (BenchmarkView against BenchmarkViewHeldOpen); an Update's
// cost is otherwise its two fdatasyncs.
//
// An Update is atomic and durable: when it returns nil its writes are on
// disk; when fn returns an error or panics, or the process dies inside it
// (even by SIGKILL), none of them are. So do each use-case's checks and
// writes in one Update:
//
//	db, err := store.Open("/var/lib/berth/berth.db")
//	err = db.Update(func(tx *store.Tx) error {
//		if err := tx.Reserve("container", "web", id); err != nil {
//			return err // ErrAlreadyExists: "container name "web" is already in use by 4f2a…"
//		}
//		return store.Put(tx, store.Containers, id, c) // c is the engine's own record type, JSON-encoded
//	})
//
// Nothing slow (network, unpacking, starting processes) belongs inside fn: it
// would hold every other berth command up.
//
// # Layout
//
//	berth.db                   the bbolt file:
//	  meta/version               SchemaVersion, as decimal text
//	  images/<name>              Image, JSON; a dangling image under "@"+target digest
//	  names/<kind>/<name>        the owner's ID (Reserve)
//	  containers|volumes|networks|pods/<key>   the engine's records, JSON (Get, Put, List)
//	berth.db.lock              the transaction lock, empty
//
// Open creates a missing file and migrates an older schema (see migrations);
// a newer schema, or a file that is not a bbolt database, is refused with an
// error naming the path.
//
// # Images
//
// An image record is keyed by its full name. When a pull or tag moves a name
// to another image and nothing else names the old one, the old one stays as
// a dangling record (docker's <none>:<none>) with Name "" until it is deleted
// by its Key. LookupImage resolves what a user types — a name, an image ID
// or an ID prefix — as docker does.
package store
