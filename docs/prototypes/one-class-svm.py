# One-class scorers on per-trace n-gram features, and an ensemble of sequence predictors, on ADFA-LD under both
# protocols of src/eval/adfa-ld-protocols.ts. A prototype for docs/models.md (issue 16), not part of gpo.
#  - OC-SVM (Gaussian kernel) on variable-length n-gram frequencies, n = 1..6 (Khreich et al. 2017);
#  - Isolation Forest on the same features;
#  - OC-SVM on the same features plus gpo's two default score components;
#  - ensembles of next-call predictors (of the kind Ring et al. 2021 report): Witten-Bell orders 2..6, and
#    Witten-Bell order 6 + the neural n-gram of docs/prototypes/neural-ngram.py; alone and with gpo's default score.
# Every setting is fixed a priori or chosen on the training traces only (5 folds, trace i in fold i mod 5, as
# gpo's calibration); the test traces are only scored. Needs Debian's python3-sklearn; run with /usr/bin/python3:
#   node docs/prototypes/gpo-default-scores.mjs $D > $OUT/gpo-default-scores.json   # after the build
#   OUT=/tmp/oneclass OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 nice -n 19 /usr/bin/python3 docs/prototypes/one-class-svm.py $D
# BUCKET=0: the n-gram vector without the unseen shares (fixed size, training's n-grams only); NN=0: no neural n-gram member (saves ~3
# minutes); NU: the OC-SVMs' nu (0.1).
import numpy as np, os, sys, glob, re, time, json
import scipy.sparse as sp
from sklearn.svm import OneClassSVM
from sklearn.ensemble import IsolationForest
from sklearn.decomposition import TruncatedSVD
D=sys.argv[1] if len(sys.argv)>1 else os.path.join(os.path.dirname(__file__),'../../../shared/datasets/adfa-ld')
OUT=os.environ.get('OUT','/tmp/oneclass')
def read(p): return [int(x) for x in open(p).read().split()]
def rel(p): return os.path.relpath(p,D)
train={rel(p):read(p) for p in sorted(glob.glob(D+'/Training_Data_Master/*.txt'))}
val={int(re.search(r'UVD-(\d+)',p).group(1)):rel(p) for p in glob.glob(D+'/Validation_Data_Master/*.txt')}
trace={**train,**{r:read(os.path.join(D,r)) for r in val.values()}}
attack=[rel(p) for p in sorted(glob.glob(D+'/Attack_Data_Master/*/*.txt'))]
trace.update({r:read(os.path.join(D,r)) for r in attack})
PROTOCOLS={'published':(list(train),[val[i] for i in range(1,2001)]),
           'agreed':(list(train)+[val[i] for i in range(1,1001)],[val[i] for i in range(1001,2001)])}
N=int(os.environ.get('N',6)); BUCKET=int(os.environ.get('BUCKET',1)); FOLDS=5; NU=float(os.environ.get('NU',0.1)); Q=0.95
GAMMAS=[1/16,1/4,1,4,16]   # multiples of the median heuristic 1 / median squared distance between training traces

from adfa_metrics import line  # this folder

# Variable-length n-gram features: for each n = 1..N, the count of each n-gram training made, divided by the
# trace's number of n-grams of that length. BUCKET=1 (default) adds one feature per n: the share of the trace's
# n-grams that training never made. Without it (BUCKET=0, a fixed-size vector over training's n-grams only)
# a trace of unseen n-grams maps near the origin, which the Gaussian kernel puts among the normal traces.
def vocabulary(rs):
    voc={}
    for r in rs:
        t=trace[r]
        for n in range(1,N+1):
            for i in range(len(t)-n+1): voc.setdefault(tuple(t[i:i+n]),len(voc))
    return voc
def features(rs,voc):
    rows=[];cols=[];vals=[]
    for k,r in enumerate(rs):
        t=trace[r]
        for n in range(1,N+1):
            tot=len(t)-n+1
            if tot<=0: continue
            c={}
            for i in range(tot):
                j=voc.get(tuple(t[i:i+n]))
                if j is not None: c[j]=c.get(j,0)+1
            for j,v in c.items(): rows.append(k); cols.append(j); vals.append(v/tot)
            if BUCKET: rows.append(k); cols.append(len(voc)+n-1); vals.append(1-sum(c.values())/tot)
    return sp.csr_matrix((vals,(rows,cols)),shape=(len(rs),len(voc)+(N if BUCKET else 0)))
def sqdist_median(X):
    X=sp.csr_matrix(X); n2=np.asarray(X.multiply(X).sum(1)).ravel(); d=n2[:,None]+n2[None,:]-2*(X@X.T).toarray()
    return np.median(d[np.triu_indices(X.shape[0],1)])

def ocsvm(Xtr,Xte,g):
    """OC-SVM, gamma g times the median heuristic of Xtr; returns -decision (higher = more anomalous) for Xte, Xtr."""
    m=OneClassSVM(kernel='rbf',nu=NU,gamma=g/sqdist_median(Xtr),cache_size=500).fit(Xtr)
    return -m.decision_function(Xte),-m.decision_function(Xtr)
def folds(n): return [np.arange(n)%FOLDS==f for f in range(FOLDS)]

# Witten-Bell interpolated next-call model over contexts of up to N-1 calls; per-trace mean surprise (nats)
# at each order 1..N, from one set of counts.
class WittenBell:
    def __init__(s,ts):
        s.c={}; s.V=len({x for t in ts for x in t})+1
        for t in ts:
            for i in range(len(t)):
                for n in range(N):
                    if i-n<0: break
                    h=tuple(t[i-n:i]); e=s.c.setdefault(h,[0,{}]); e[0]+=1; e[1][t[i]]=e[1].get(t[i],0)+1
    def mean_surprise(s,t):
        tot=np.zeros(N)
        for i in range(len(t)):
            p=1/s.V
            for n in range(N):
                if i-n>=0:
                    e=s.c.get(tuple(t[i-n:i]))
                    if e is not None: T=len(e[1]); p=(e[1].get(t[i],0)+T*p)/(e[0]+T)
                tot[n]-=np.log(p)
        return tot/max(1,len(t))

# Neural n-gram next-call predictor exactly as docs/prototypes/neural-ngram.py (10 calls, embeddings of 16, tanh
# layer of 128, Adam, seed 1, stopped when the log-loss of 10% of the training traces held out stops falling);
# returns the mean per-call log-loss of each trace in rs and of the held-out traces (for scaling).
def neural_ngram(tr,rs,K=10,E=16,H=128,EP=12):
    rng=np.random.default_rng(1); voc={}
    for r in tr:
        for c in trace[r]: voc.setdefault(c,len(voc))
    PAD=len(voc); UNK=PAD+1; V=UNK+1
    def examples(ts):
        X=[];Y=[]
        for t in ts:
            e=np.array([voc.get(c,UNK) for c in t],dtype=np.int64); p=np.concatenate([np.full(K,PAD),e])
            X.append(p[np.arange(len(e))[:,None]+np.arange(K)[None,:]]); Y.append(e)
        return np.concatenate(X),np.concatenate(Y)
    perm=rng.permutation(len(tr)); nho=len(tr)//10
    ho=[tr[i] for i in perm[:nho]]; fit=[tr[i] for i in perm[nho:]]
    Xf,Yf=examples([trace[r] for r in fit]); Xh,Yh=examples([trace[r] for r in ho])
    sc=lambda *s: rng.normal(0,1,s)/np.sqrt(s[0])
    P={'emb':rng.normal(0,0.1,(V,E)),'W1':sc(K*E,H),'b1':np.zeros(H),'W2':sc(H,V),'b2':np.zeros(V)}
    M={k:np.zeros_like(v) for k,v in P.items()}; S={k:np.zeros_like(v) for k,v in P.items()}
    def fwd(X):
        x=P['emb'][X].reshape(len(X),K*E); h=np.tanh(x@P['W1']+P['b1']); z=h@P['W2']+P['b2']
        z-=z.max(1,keepdims=True); lp=z-np.log(np.exp(z).sum(1,keepdims=True)); return x,h,lp
    def nll(X,Y,bs=8192):
        out=np.empty(len(Y))
        for i in range(0,len(Y),bs):
            _,_,lp=fwd(X[i:i+bs]); out[i:i+bs]=-lp[np.arange(len(lp)),Y[i:i+bs]]
        return out
    lr=2e-3; step=0; B=256; best=(1e9,None)
    for ep in range(EP):
        o=rng.permutation(len(Yf))
        for i in range(0,len(o),B):
            b=o[i:i+B]; X=Xf[b]; Y=Yf[b]
            x,h,lp=fwd(X); p=np.exp(lp); p[np.arange(len(Y)),Y]-=1; p/=len(Y)
            g={'W2':h.T@p,'b2':p.sum(0)}; dh=(p@P['W2'].T)*(1-h*h)
            g['W1']=x.T@dh; g['b1']=dh.sum(0); dx=(dh@P['W1'].T).reshape(len(X),K,E)
            ge=np.zeros_like(P['emb']); np.add.at(ge,X,dx); g['emb']=ge
            step+=1
            for k in P:
                M[k]=0.9*M[k]+0.1*g[k]; S[k]=0.999*S[k]+0.001*g[k]**2
                P[k]-=lr*(M[k]/(1-0.9**step))/(np.sqrt(S[k]/(1-0.999**step))+1e-8)
        hl=nll(Xh,Yh).mean(); print(f'  neural n-gram epoch {ep}: held-out nll {hl:.4f}',flush=True)
        if hl<best[0]: best=(hl,{k:v.copy() for k,v in P.items()})
        else: break
    P.update(best[1])
    score=lambda r: nll(*examples([trace[r]])).mean()
    return np.array([score(r) for r in rs]),np.array([score(r) for r in ho])

def scaled(x,held):
    """(x - held-out median) / (held-out q99 - median), as src/model/calibration.ts componentScale (MIN 0.01)."""
    h=np.asarray(held); c=np.quantile(h,0.5); return (np.asarray(x)-c)/max(0.01,np.quantile(h,0.99)-c)

gpo=json.load(open(f'{OUT}/gpo-default-scores.json'))
for protocol,(tr,normal) in PROTOCOLS.items():
    t0=time.time(); tests=normal+attack; half=[val[i] for i in range(1,1001)]; res={}
    print(f'== {protocol}: {len(tr)} training traces',flush=True)
    def show(title,score):   # score: dict trace -> value, higher = more anomalous
        res[title]={'all':line([score[r] for r in normal],[score[r] for r in attack])}
        print(f'{title}: '+res[title]['all'],flush=True)
        if protocol=='published':
            for a,b in ((1,1000),(1001,2000)):
                print(f'   UVD-{a:04d}..{b:04d} alone: '+line([score[val[i]] for i in range(a,b+1)],[score[r] for r in attack]),flush=True)
    fm=folds(len(tr))
    # gpo's components: test scores, and the 5-fold held-out training ones in training order.
    g=gpo[protocol]; order=[i for f in range(FOLDS) for i in range(len(tr)) if i%FOLDS==f]
    held_gpo=np.zeros((len(tr),2)); held_gpo[order]=np.array(g['heldOut'])
    gs={t:g['scores'][t][2] for t in tests}; show('gpo default score (check against gpo eval)',gs)
    def gpo_block(rows,one_sided=False):   # the two components scaled as gpo scales them; one-sided (diagnostic): a
        # trace more predictable than the median held-out training trace is no evidence of an attack (the kernel is
        # two-sided), so both components are clipped at 0
        z=np.column_stack([scaled(rows[:,k],held_gpo[:,k]) for k in (0,1)]); return np.maximum(z,0) if one_sided else z
    gte=gpo_block(np.array([g['scores'][t][:2] for t in tests])); gtr=gpo_block(held_gpo)

    # --- features, fold by fold (the vocabulary from the fitted folds only) ---
    voc=vocabulary(tr); Xtr=features(tr,voc); Xte=features(tests,voc)
    fold_data=[]
    for f in fm:
        fit=[r for r,k in zip(tr,f) if not k]; ho=[r for r,k in zip(tr,f) if k]; v=vocabulary(fit)
        fold_data.append((features(fit,v),features(ho,v)))
    print(f'{len(voc)} n-grams (n = 1..{N}) in training; features {time.time()-t0:.0f}s',flush=True)

    # --- OC-SVM: gamma chosen on the training folds. Rule: the largest gamma (the tightest description) whose
    # held-out false alarms, at the 95% quantile of the fitted traces' own scores, stay at most 2 x 5%.
    def heldout_fa(make):   # make(Xfit, Xho) -> (held-out scores, fitted scores)
        fa=[]; held=np.zeros(len(tr))
        for f,(Xf,Xh) in zip(fm,fold_data):
            sh,sf=make(Xf,Xh); held[f]=sh; fa.append((sh>np.quantile(sf,Q)).mean())
        return float(np.mean(fa)),held
    grid={}
    for gm in GAMMAS:
        fa,held=heldout_fa(lambda Xf,Xh: ocsvm(Xf,Xh,gm)); grid[gm]=(fa,held)
        print(f'  OC-SVM gamma x{gm:g}: held-out training false alarms at the fitted 95% quantile {fa*100:.1f}%',flush=True)
    ok=[gm for gm in GAMMAS if grid[gm][0]<=2*(1-Q)]; gsel=max(ok) if ok else min(GAMMAS)
    oc={}
    for gm in GAMMAS:
        s,_=ocsvm(Xtr,Xte,gm); oc[gm]=dict(zip(tests,s))
    show(f'OC-SVM, n-grams 1..{N}, nu {NU}, gamma x{gsel:g} of the median heuristic (chosen on training folds)',oc[gsel])
    for gm in GAMMAS:
        if gm!=gsel: show(f'   diagnostic, not chosen: gamma x{gm:g}',oc[gm])

    # --- Isolation Forest, defaults of Liu et al. 2008 (256 samples per tree), 200 trees, seed 1; on the features
    # reduced to 50 dimensions by a truncated SVD fitted on the training traces (on the raw 10^5 sparse features
    # nearly every random split falls on a feature that is 0 for the node's traces).
    def iforest(Xf,Xo,dims=50):
        if dims: svd=TruncatedSVD(dims,random_state=1).fit(Xf); Xf,Xo=svd.transform(Xf),svd.transform(Xo)
        m=IsolationForest(n_estimators=200,max_samples=256,random_state=1).fit(Xf); return -m.score_samples(Xo),-m.score_samples(Xf)
    s,_=iforest(Xtr,Xte); ifo=dict(zip(tests,s)); show('Isolation Forest on the same features, SVD to 50 dimensions',ifo)
    s,_=iforest(Xtr.tocsc(),Xte.tocsc(),0); show('   diagnostic: Isolation Forest on the raw sparse features',dict(zip(tests,s)))
    _,if_held=heldout_fa(iforest)

    # --- OC-SVM on n-gram features + gpo's two components; each block weighted to total variance 1 over the
    # training traces (gpo's components: their held-out values, as a trace would get them unseen).
    def blockvar(X):
        X=sp.csr_matrix(X); return float((np.asarray(X.multiply(X).mean(0))-np.asarray(X.mean(0))**2).sum())
    wn=1/np.sqrt(blockvar(Xtr)); wg=1/np.sqrt(blockvar(gtr))
    Ztr=sp.hstack([Xtr*wn,gtr*wg]).tocsr(); Zte=sp.hstack([Xte*wn,gte*wg]).tocsr()
    zfold=[]
    for f,(Xf,Xh) in zip(fm,fold_data):
        a=1/np.sqrt(blockvar(Xf)); b=1/np.sqrt(blockvar(gtr[~f]))
        zfold.append((sp.hstack([Xf*a,gtr[~f]*b]).tocsr(),sp.hstack([Xh*a,gtr[f]*b]).tocsr()))
    zgrid={}
    for gm in GAMMAS:
        fa=[]
        for f,(Zf,Zh) in zip(fm,zfold):
            sh,sf=ocsvm(Zf,Zh,gm); fa.append((sh>np.quantile(sf,Q)).mean())
        zgrid[gm]=float(np.mean(fa)); print(f'  OC-SVM + gpo components, gamma x{gm:g}: held-out false alarms {zgrid[gm]*100:.1f}%',flush=True)
    ok=[gm for gm in GAMMAS if zgrid[gm]<=2*(1-Q)]; zsel=max(ok) if ok else min(GAMMAS)
    s,_=ocsvm(Ztr,Zte,zsel); show(f'OC-SVM on n-grams + gpo components, gamma x{zsel:g} (chosen on training folds)',dict(zip(tests,s)))
    for gm in GAMMAS:
        if gm!=zsel: s,_=ocsvm(Ztr,Zte,gm); show(f'   diagnostic, not chosen: gamma x{gm:g}',dict(zip(tests,s)))
    # OC-SVM on the two gpo components alone (the kernel's view of gpo's own score)
    s,_=ocsvm(gtr,gte,1); show('   OC-SVM on the two gpo components alone, gamma x1',dict(zip(tests,s)))
    s,_=ocsvm(gpo_block(held_gpo,True),gpo_block(np.array([g['scores'][t][:2] for t in tests]),True),1)
    show('   OC-SVM on the two gpo components alone, one-sided (clipped at 0), gamma x1',dict(zip(tests,s)))

    # --- ensemble of Witten-Bell next-call predictors, orders 2..N: each order's mean surprise scaled by its
    # held-out (5-fold) training median and q99, then averaged; alone, and with gpo's default score and the OC-SVM.
    wb_held=np.zeros((len(tr),N))
    for f in fm:
        m=WittenBell([trace[r] for r,k in zip(tr,f) if not k])
        for i in np.flatnonzero(f): wb_held[i]=m.mean_surprise(trace[tr[i]])
    m=WittenBell([trace[r] for r in tr]); wb_te=np.array([m.mean_surprise(trace[t]) for t in tests])
    for n in (2,N): show(f'   member: Witten-Bell order {n} mean surprise',dict(zip(tests,wb_te[:,n-1])))
    ens=np.mean([scaled(wb_te[:,n],wb_held[:,n]) for n in range(1,N)],0); ensd=dict(zip(tests,ens))
    show(f'ensemble of Witten-Bell predictors, orders 2..{N} (held-out scaled, mean)',ensd)
    show('   the ensemble + gpo default score',{t:gs[t]+ensd[t] for t in tests})
    if int(os.environ.get('NN',1)):   # an ensemble of two predictor families: Witten-Bell order N and a neural n-gram
        nn_te,nn_held=neural_ngram(tr,tests); show('   member: neural n-gram (docs/prototypes/neural-ngram.py)',dict(zip(tests,nn_te)))
        fam=scaled(wb_te[:,N-1],wb_held[:,N-1])+scaled(nn_te,nn_held); famd=dict(zip(tests,fam))
        show(f'ensemble of predictor families: Witten-Bell order {N} + neural n-gram (held-out scaled, sum)',famd)
        show('   the family ensemble + gpo default score',{t:gs[t]+famd[t] for t in tests})
    ocs=dict(zip(tests,scaled([oc[gsel][t] for t in tests],grid[gsel][1])))
    show('   gpo default score + OC-SVM (held-out scaled)',{t:gs[t]+ocs[t] for t in tests})
    ifs=dict(zip(tests,scaled([ifo[t] for t in tests],if_held)))
    show('   gpo default score + OC-SVM + Isolation Forest + WB ensemble (each held-out scaled)',{t:gs[t]+ocs[t]+ifs[t]+ensd[t] for t in tests})
    print(f'{protocol}: {time.time()-t0:.0f}s',flush=True)
