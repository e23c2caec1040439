# Discrete-emission hidden Markov model over the syscall symbols (Warrender, Forrest & Pearlmutter 1999,
# "Detecting intrusions using system calls: alternative data models") on ADFA-LD under both protocols of
# src/eval/adfa-ld-protocols.ts. A prototype for docs/models.md (issue 16), not part of gpo. Needs numpy.
# Baum-Welch with scaled forward-backward, vectorized over the traces of a batch (sorted by length, so the
# traces still running at step t are a prefix); seed 1; the iterations stop on the log-likelihood of 10% of the
# *training* traces held out (never the test traces). Scores: mean per-call negative log-likelihood (forward
# algorithm); that minus the trace's own unigram entropy (as gpo's surprise score); each added to gpo's default
# score, scaled by the held-out training traces' median and q99.
#   node docs/prototypes/gpo-default-scores.mjs $D > $OUT/gpo-default-scores.json   # after the build
#   P=published OUT=/tmp/hmm OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 nice -n 19 /usr/bin/python3 docs/prototypes/hmm.py $D
# SEED: draws the held-out traces, then the random start (1); S: states (default: the number of distinct syscalls in the fitted traces, as the paper); P: published|agreed|both;
# IT: iteration cap (200); MAXMIN: CPU-minute cap on Baum-Welch (25); TOL: stop when the held-out mean
# log-likelihood per call has not risen above its best by this much (1e-4 nats) for 3 iterations; the best kept.
import numpy as np, os, sys, glob, re, time, json
D=sys.argv[1] if len(sys.argv)>1 else os.path.join(os.path.dirname(__file__),'../../../shared/datasets/adfa-ld')
OUT=os.environ.get('OUT','/tmp/hmm')
def read(p): return [int(x) for x in open(p).read().split()]
def rel(p): return os.path.relpath(p,D)
train={rel(p):read(p) for p in sorted(glob.glob(D+'/Training_Data_Master/*.txt'))}
val={int(re.search(r'UVD-(\d+)',p).group(1)):rel(p) for p in glob.glob(D+'/Validation_Data_Master/*.txt')}
trace={**train,**{r:read(os.path.join(D,r)) for r in val.values()}}
attack=[rel(p) for p in sorted(glob.glob(D+'/Attack_Data_Master/*/*.txt'))]
trace.update({r:read(os.path.join(D,r)) for r in attack})
PROTOCOLS={'published':(list(train),[val[i] for i in range(1,2001)]),
           'agreed':(list(train)+[val[i] for i in range(1,1001)],[val[i] for i in range(1001,2001)])}
IT=int(os.environ.get('IT',200)); MAXMIN=float(os.environ.get('MAXMIN',25)); TOL=float(os.environ.get('TOL',1e-4)); PATIENCE=3; SEED=int(os.environ.get('SEED',1))
FLOOR=1e-6   # added to every transition and emission probability after each M-step: no zero (test likelihoods stay finite)
BATCH=256

from adfa_metrics import line  # this folder

def batches(seqs):
    """Traces sorted by length (longest first) in batches; each batch as a time-major padded array and, per
    step t, the number of its traces still running (a prefix, by the sort)."""
    order=sorted(range(len(seqs)),key=lambda i:-len(seqs[i])); out=[]
    for k in range(0,len(order),BATCH):
        idx=order[k:k+BATCH]; L=np.array([len(seqs[i]) for i in idx]); O=np.zeros((L[0],len(idx)),dtype=np.int64)
        for j,i in enumerate(idx): O[:L[j],j]=seqs[i]
        out.append((np.array(idx),L,O,np.array([(L>t).sum() for t in range(L[0])])))
    return out

def loglik(pi,A,B,bs,n):
    """Forward algorithm with scaling: per-trace log-likelihood (sum of ln c_t) for every trace."""
    ll=np.zeros(n)
    for idx,L,O,act in bs:
        a=pi[None,:]*B[:,O[0]].T; c=a.sum(1); a/=c[:,None]; lc=np.log(c)
        for t in range(1,len(O)):
            m=act[t]; a=(a[:m]@A)*B[:,O[t,:m]].T; c=a.sum(1); a/=c[:,None]; lc[:m]+=np.log(c)
        ll[idx]=lc
    return ll

def baum_welch_step(pi,A,B,bs):
    """One E-step over every batch (scaled forward-backward) and the M-step; returns the new parameters and the
    fitted traces' total log-likelihood under the old ones."""
    N,M=B.shape; Pi=np.zeros(N); X=np.zeros((N,N)); E=np.zeros((M,N)); tot=0.0
    for idx,L,O,act in bs:
        T=len(O); al=[None]*T; cs=[None]*T
        a=pi[None,:]*B[:,O[0]].T; c=a.sum(1); a/=c[:,None]; al[0]=a; cs[0]=c
        for t in range(1,T):
            m=act[t]; a=(a[:m]@A)*B[:,O[t,:m]].T; c=a.sum(1); a/=c[:,None]; al[t]=a; cs[t]=c
        tot+=sum(np.log(c).sum() for c in cs)
        be=np.ones((act[T-1],N))
        for t in range(T-1,0,-1):
            m=act[t]; g=al[t]*be; np.add.at(E,O[t,:m],g)
            w=B[:,O[t,:m]].T*be/cs[t][:,None]          # b_j(o_t) beta_t(j) / c_t
            X+=al[t-1][:m].T@w                           # xi_t(i,j) = alpha_{t-1}(i) A_ij w_t(j), A applied below
            bp=w@A.T                                     # beta_{t-1} for the traces still running at t
            m0=act[t-1]
            if m0>m: be=np.vstack([bp,np.ones((m0-m,N))])   # traces that end at t-1 start their backward pass
            else: be=bp
        g=al[0]*be; np.add.at(E,O[0],g); Pi+=g.sum(0)
    A2=A*X+FLOOR; A2/=A2.sum(1,keepdims=True)
    B2=E.T+FLOOR; B2/=B2.sum(1,keepdims=True)
    pi2=Pi+FLOOR; pi2/=pi2.sum()
    return pi2,A2,B2,tot

def self_entropy(t):
    """The trace's own unigram entropy in nats (unseen syscalls share one symbol, as gpo)."""
    _,c=np.unique(t,return_counts=True); n=len(t); return max(0.0,np.log(n)-(c*np.log(c)).sum()/n) if n else 0.0

def scaled(x,held):
    """(x - held-out median) / (held-out q99 - median), as src/model/calibration.ts componentScale (MIN 0.01)."""
    h=np.asarray(held); c=np.quantile(h,0.5); return (np.asarray(x)-c)/max(0.01,np.quantile(h,0.99)-c)

gpo_path=f'{OUT}/gpo-default-scores.json'
which=os.environ.get('P','both')
for protocol,(tr,normal) in PROTOCOLS.items():
    if which not in ('both',protocol): continue
    t0=time.process_time(); tests=normal+attack
    rng=np.random.default_rng(SEED); perm=rng.permutation(len(tr)); nho=len(tr)//10
    ho=[tr[i] for i in perm[:nho]]; fit=[tr[i] for i in perm[nho:]]
    voc={}
    for r in fit:
        for c in trace[r]: voc.setdefault(c,len(voc))
    UNK=len(voc); M=UNK+1   # syscalls the fitted traces never made share one symbol, kept at the floor
    enc=lambda r: np.array([voc.get(c,UNK) for c in trace[r]],dtype=np.int64)
    N=int(os.environ.get('S',0)) or len(voc)
    print(f'== {protocol}: {len(fit)} fitted + {len(ho)} held-out training traces, {len(voc)} syscalls, {N} states',flush=True)
    bf=batches([enc(r) for r in fit]); bh=batches([enc(r) for r in ho])
    nf=sum(len(trace[r]) for r in fit); nh=sum(len(trace[r]) for r in ho)
    # Random start: every row drawn uniformly from the simplex (Dirichlet(1); a near-uniform start leaves the states
    # nearly interchangeable and EM crawls off that saddle); the UNK column at the floor.
    A=rng.dirichlet(np.ones(N),N)
    B=rng.dirichlet(np.ones(M-1),N); B=np.hstack([B,np.zeros((N,1))])+FLOOR; B/=B.sum(1,keepdims=True)
    pi=np.full(N,1/N)
    best=(-np.inf,None,0); stale=0
    for it in range(IT):
        ti=time.process_time()
        pi,A,B,tot=baum_welch_step(pi,A,B,bf)
        hl=loglik(pi,A,B,bh,len(ho)).sum()/nh
        print(f'  iteration {it+1}: fitted ll/call {tot/nf:.4f} (before the step), held-out ll/call {hl:.4f}  ({time.process_time()-ti:.0f}s cpu)',flush=True)
        stale=0 if hl>best[0]+TOL else stale+1
        if hl>best[0]: best=(hl,(pi.copy(),A.copy(),B.copy()),it+1)
        if stale>=PATIENCE: print(f'  stopped: held-out ll/call not above its best by {TOL:g} for {PATIENCE} iterations; best iteration {best[2]}',flush=True); break
        if time.process_time()-t0>MAXMIN*60: print(f'  stopped at the {MAXMIN:g}-minute cap; best iteration {best[2]}',flush=True); break
    pi,A,B=best[1]
    tb=time.process_time()-t0
    def nll(rs):
        ll=loglik(pi,A,B,batches([enc(r) for r in rs]),len(rs)); return -ll/np.array([len(trace[r]) for r in rs])
    te=nll(tests); held=nll(ho)
    ent_te=np.array([self_entropy(enc(r)) for r in tests]); ent_ho=np.array([self_entropy(enc(r)) for r in ho])
    def show(title,s):
        s=dict(zip(tests,s)); print(f'{title}: '+line([s[r] for r in normal],[s[r] for r in attack]),flush=True)
        for a,b in ((1,1000),(1001,2000)) if protocol=='published' else ():
            h=[val[i] for i in range(a,b+1)]; print(f'   UVD-{a:04d}..{b:04d} alone: '+line([s[r] for r in h],[s[r] for r in attack]),flush=True)
    show('HMM mean per-call NLL',te)
    show('HMM mean per-call NLL minus own entropy',te-ent_te)
    gpo=json.load(open(gpo_path)) if os.path.exists(gpo_path) else None   # read late: it may be written while this trains
    if gpo is not None:
        g=gpo[protocol]; gs=np.array([g['scores'][t][2] for t in tests])
        show('gpo default score (check against gpo eval)',gs)
        show('gpo default + HMM NLL (held-out scaled)',gs+scaled(te,held))
        show('gpo default + HMM NLL minus own entropy (held-out scaled)',gs+scaled(te-ent_te,held-ent_ho))
    json.dump({'tests':dict(zip(tests,te.tolist())),'tests_entropy':dict(zip(tests,ent_te.tolist())),'held':held.tolist(),
               'held_entropy':ent_ho.tolist(),'best_iteration':best[2]},open(f'{OUT}/hmm-{protocol}-S{N}-seed{SEED}.json','w'))
    print(f'{protocol}: Baum-Welch {tb/60:.1f} cpu-minutes, total {(time.process_time()-t0)/60:.1f}',flush=True)
